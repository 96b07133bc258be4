"""The image encoder: a frozen ImageNet ResNet-50 trunk that turns a photo into a grid of features.

The weights are Keras' ResNet50 (see `captioning/imagenet_weights.py`), so the network follows
ResNet v1: the stride 2 of `layer2..4[0]` sits in the first 1x1 convolution, not the 3x3.
Input is an RGB batch in [0, 1]; the Keras "caffe" normalisation (0-255, minus the ImageNet
means, no scaling) is applied here so callers never see it.
"""

import torch
from torch import nn
from torchvision.models import ResNet, resnet50

# ImageNet channel means on the 0-255 scale, in RGB order (Keras lists them as BGR).
IMAGENET_MEAN_RGB = (123.68, 116.779, 103.939)
FEATURE_DIM = 2048
GRID = 7  # a 224x224 photo gives a 7x7 grid


def resnet50_v1() -> ResNet:
    """torchvision's resnet50 with ResNet v1 stride placement (stride in the first 1x1 conv)."""
    net = resnet50(weights=None)
    for layer in (net.layer2, net.layer3, net.layer4):
        block = layer[0]
        block.conv1.stride = (2, 2)
        block.conv2.stride = (1, 1)
    return net


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
