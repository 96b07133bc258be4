"""The image encoder: a frozen ImageNet ResNet-50 trunk that turns a photo into a grid of features.

The weights are Keras' ResNet50 (see `captioning/imagenet_weights.py`), so the network follows
ResNet v1: the stride 2 of `layer2..4[0]` sits in the first 1x1 convolution, not the 3x3.
Input is an RGB batch in [0, 1]; the Keras "caffe" normalisation (0-255, minus the ImageNet
means, no scaling) is applied here so callers never see it.
"""

from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import safe_open
from torch import nn

# ImageNet channel means on the 0-255 scale, in RGB order (Keras lists them as BGR).
IMAGENET_MEAN_RGB = (123.68, 116.779, 103.939)
FEATURE_DIM = 2048
GRID = 7  # a 224x224 photo gives a 7x7 grid


class Bottleneck(nn.Module):
    """torchvision's ResNet-50 block, with the same module names (and so the same state dict)."""

    def __init__(self, inplanes: int, planes: int, stride: int, downsample: bool) -> None:
        super().__init__()
        width, out = planes, planes * 4
        # ResNet v1: the stride sits in the first 1x1 convolution, not the 3x3
        self.conv1 = nn.Conv2d(inplanes, width, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if downsample:
            shortcut = nn.Conv2d(inplanes, out, 1, stride=stride, bias=False)
            self.downsample = nn.Sequential(shortcut, nn.BatchNorm2d(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # torchvision's order of operations, so that the exported ONNX graph (and the names the
        # int8 activation ranges are kept under) is the same
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """ResNet-50 v1 with torchvision's module names: its `resnet50` state dict loads as it is.

    Written out here (40 lines) so that the model needs PyTorch alone, not torchvision."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = 64
        stages = []
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layer = [Bottleneck(channels, planes, stride, downsample=True)]
            channels = planes * 4
            layer += [Bottleneck(channels, planes, 1, downsample=False) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool: nn.Module = nn.AdaptiveAvgPool2d((1, 1))
        self.fc: nn.Module = nn.Linear(channels, num_classes)
        for m in self.modules():  # torchvision's initialisation, for the tests' random models
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet50_v1() -> ResNet:
    """ResNet-50 as torchvision builds it, with ResNet v1 stride placement (stride in the first
    1x1 convolution)."""
    return ResNet()


class Encoder(nn.Module):
    """photo (B, 3, 224, 224) in [0, 1] -> features (B, 49, 2048)."""

    mean: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.net = resnet50_v1()
        self.net.avgpool = nn.Identity()  # the trunk ends at layer4
        self.net.fc = nn.Identity()
        self.register_buffer(
            "mean", torch.tensor(IMAGENET_MEAN_RGB).view(1, 3, 1, 1), persistent=False
        )
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = x * 255.0 - self.mean  # (B, 3, 224, 224) on the Keras "caffe" scale
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))  # (B, 64, 56, 56)
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))  # (B, 2048, 7, 7)
        return x.flatten(2).transpose(1, 2)  # (B, 49, 2048)

    def load_trunk(self, state: dict[str, torch.Tensor]) -> None:
        """Load a torchvision resnet50 state dict; its fc layer, if any, is left out."""
        self.net.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})

    @classmethod
    def from_file(cls, weights: Path) -> "Encoder":
        """The encoder with the trunk of a resnet50 safetensors file."""
        from safetensors.torch import load_file

        encoder = cls()
        encoder.load_trunk(load_file(str(weights)))
        return encoder


def trunk_tensors(weights: Path) -> Iterator[tuple[str, torch.Tensor]]:
    """The state dict `Encoder.from_file(weights)` has, read one tensor at a time, without
    building the encoder (what an engine file's fingerprint needs)."""
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 (a safetensors file, not a dict)
            if not key.startswith("fc."):
                yield f"net.{key}", f.get_tensor(key)


class Classifier(nn.Module):
    """The whole ImageNet classifier, used to check the converted weights: photo -> 1000 logits."""

    mean: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.net = resnet50_v1()
        self.register_buffer(
            "mean", torch.tensor(IMAGENET_MEAN_RGB).view(1, 3, 1, 1), persistent=False
        )
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 255.0 - self.mean)  # (B, 1000)
