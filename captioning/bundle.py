"""The model bundle: a folder that holds everything needed to caption, loaded without pickle.

config.json          format, decoder sizes, encoder, preprocessing, decoding, training, metrics
vocab.json           the words, by id
decoder.safetensors  the decoder's weights
the encoder's weights: `config["encoder"]["weights"]`, a path relative to the bundle
                     (the shipped bundle shares model_weights/resnet50_imagenet.safetensors)
"""

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from captioning.bundle_config import FORMAT, BundleError, read_config
from captioning.decoder import Decoder, DecoderConfig
from captioning.encoder import Encoder, resnet50_v1
from captioning.preprocessing import IMAGE_SIZE
from captioning.vocabulary import SPECIALS, Vocabulary

PREPROCESSING = {
    "size": IMAGE_SIZE,
    "resize": "whole photo squashed to 224x224 (no crop), bicubic, after EXIF rotation",
    "normalisation": "RGB x 255 minus ImageNet means (Keras caffe), inside the encoder",
}


def save_bundle(
    path: Path,
    decoder: Decoder,
    vocab: Vocabulary,
    encoder_weights: str,
    decoding: dict[str, Any],
    training: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT,
        "decoder": decoder.config.to_dict(),
        "encoder": {"arch": "resnet50_v1", "weights": encoder_weights},
        "preprocessing": PREPROCESSING,
        "decoding": decoding,
        "training": training or {},
        "metrics": metrics or {},
    }
    vocab.save(path / "vocab.json")
    state = {k: v.contiguous() for k, v in decoder.state_dict().items()}
    save_file(state, str(path / "decoder.safetensors"))
    (path / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return path


def encoder_file(path: Path, config: dict[str, Any]) -> Path:
    """The encoder's weights file the bundle names; BundleError when it is missing."""
    weights = path / config["encoder"]["weights"]
    if not weights.exists():
        raise BundleError(f"encoder weights {weights} are missing: run `captionbot weights`")
    return weights


def load_decoder(path: Path, config: dict[str, Any]) -> tuple[Decoder, Vocabulary]:
    """-> the decoder (in eval mode) and the vocabulary"""
    decoder = Decoder(DecoderConfig(**config["decoder"]))
    decoder.load_state_dict(load_file(str(path / "decoder.safetensors")))
    decoder.eval()
    vocab = Vocabulary.load(path / "vocab.json")
    if len(vocab) != decoder.config.vocab_size:
        raise BundleError(
            f"{path}: vocab.json has {len(vocab)} words, the decoder {decoder.config.vocab_size}"
        )
    return decoder, vocab


def load_bundle(path: Path) -> tuple[Encoder, Decoder, Vocabulary, dict[str, Any]]:
    """-> encoder, decoder (both in eval mode), vocabulary, config"""
    config = read_config(path)
    encoder = Encoder.from_file(encoder_file(path, config))
    decoder, vocab = load_decoder(path, config)
    return encoder, decoder, vocab, config


def make_random_bundle(path: Path, seed: int = 0, recognise: int | None = None) -> Path:
    """A tiny decoder with random weights over a ResNet-50 with random weights, for tests.

    With `recognise`, the bundle also has grounding (see `captioning.grounding`), and its
    classifier takes every photo for that ImageNet class: 281 is "tabby cat" (the word "cat"),
    916 "website" (text), any other a class with no word; the person head sees no one."""
    torch.manual_seed(seed)
    words = [
        "a",
        "an",
        "the",
        "dog",
        "cat",
        "man",
        "woman",
        "child",
        "runs",
        "sits",
        "on",
        "in",
        "grass",
        "water",
        "red",
        "blue",
        "and",
    ]
    vocab = Vocabulary([*SPECIALS, *words])
    decoder = Decoder(DecoderConfig(len(vocab), embed_dim=16, attention_dim=16, hidden_dim=32))
    decoder.eval()
    path.mkdir(parents=True, exist_ok=True)
    classifier = resnet50_v1()  # the trunk and its ImageNet classifier (fc)
    if recognise is not None:
        fc = classifier.fc
        assert isinstance(fc, torch.nn.Linear)
        with torch.no_grad():
            fc.weight.mul_(0.01)
            fc.bias[recognise] = 30.0
    save_file(classifier.state_dict(), str(path / "encoder.safetensors"))
    decoding = {"beam_size": 3, "max_length": 12, "length_penalty": 1.0}
    save_bundle(
        path,
        decoder,
        vocab,
        "encoder.safetensors",
        decoding,
        training={"data": "none: random weights for tests"},
    )
    if recognise is not None:
        _add_test_grounding(path)
    return path


def _add_test_grounding(path: Path) -> None:
    from captioning.concepts import ConceptTable, Kind
    from captioning.grounding import GroundingFile, save_person_head

    special: dict[int, tuple[str, str, Kind]] = {
        281: ("tabby cat", "cat", "animal"),
        916: ("website", "", "text"),
    }
    rows = [(f"n{i:08d}", *special.get(i, (f"class {i}", "", "object"))) for i in range(1000)]
    ConceptTable.from_rows(rows).save(path)
    GroundingFile(["man", "woman", "child"]).save(path)
    save_person_head(path, torch.zeros(1000), torch.tensor(-10.0), torch.ones(1000))
