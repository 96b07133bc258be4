"""The converted encoder weights are right: the whole classifier recognises photos.

Needs model_weights/resnet50_imagenet.safetensors (made by `captionbot weights`); skipped without.
"""

from pathlib import Path

import pytest
import torch
from PIL import Image

from captioning.encoder import Classifier, Encoder
from captioning.imagenet_weights import imagenet_labels, load_state, state_digest, torch_prefix
from captioning.preprocessing import batch

WEIGHTS = Path(__file__).parent.parent / "model_weights" / "resnet50_imagenet.safetensors"
needs_weights = pytest.mark.skipif(not WEIGHTS.exists(), reason=f"needs {WEIGHTS}")


def test_keras_names_map_to_torchvision() -> None:
    assert torch_prefix("conv1") == ("conv1", "bn1")
    assert torch_prefix("res2a_branch1") == ("layer1.0.downsample.0", "layer1.0.downsample.1")
    assert torch_prefix("res4f_branch2b") == ("layer3.5.conv2", "layer3.5.bn2")
    assert torch_prefix("res5c_branch2c") == ("layer4.2.conv3", "layer4.2.bn3")


@pytest.mark.weights
@needs_weights
@pytest.mark.parametrize(("name", "expected"), [("coffee", "espresso"), ("chelsea", "cat")])
def test_classifier_recognises_skimage_photos(name: str, expected: str) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    image = Image.fromarray(getattr(skimage_data, name)())
    classifier = Classifier()
    classifier.net.load_state_dict(load_state(WEIGHTS))
    with torch.inference_mode():
        probs = classifier(batch([image])).softmax(-1)[0]
    labels = imagenet_labels(WEIGHTS)
    top = labels[int(probs.argmax())]
    assert expected in top.lower(), top
    assert float(probs.max()) > 0.5


@pytest.mark.weights
@needs_weights
def test_encoder_features_are_the_classifier_trunk() -> None:
    skimage_data = pytest.importorskip("skimage.data")
    x = batch([Image.fromarray(skimage_data.coffee())])
    state = load_state(WEIGHTS)
    encoder, classifier = Encoder(), Classifier()
    encoder.load_trunk(state)
    classifier.net.load_state_dict(state)
    with torch.inference_mode():
        feats = encoder(x)  # (1, 49, 2048)
        logits = classifier.net.fc(feats.mean(1))
        assert feats.shape == (1, 49, 2048)
        assert torch.allclose(logits, classifier(x), atol=1e-3)


def test_state_digest_depends_on_values_not_on_order() -> None:
    a = {"x": torch.zeros(2, 3), "y": torch.arange(4)}
    b = {"y": torch.arange(4), "x": torch.zeros(2, 3)}
    assert state_digest(a) == state_digest(b)
    b["x"] = b["x"].clone()
    b["x"][0, 0] = 1e-7
    assert state_digest(a) != state_digest(b)
