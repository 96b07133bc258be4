import json
from pathlib import Path

import numpy as np
import pytest
import torch

from captioning.bundle import BundleError, load_bundle, make_random_bundle, save_bundle
from captioning.captioner import Captioner
from captioning.vocabulary import Vocabulary
from tests.helpers import photo, tiny_decoder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_bundle(tmp_path_factory.mktemp("bundle"))


def test_round_trip_keeps_every_weight_and_setting(tmp_path: Path) -> None:
    decoder = tiny_decoder(vocab_size=7, feature_dim=2048)
    vocab = Vocabulary(["<pad>", "<start>", "<end>", "<unk>", "dog", "runs", "grass"])
    (tmp_path / "enc.safetensors").write_bytes(b"")  # loading it is another test's job
    save_bundle(
        tmp_path / "b",
        decoder,
        vocab,
        "../enc.safetensors",
        {"beam_size": 5, "max_length": 20, "length_penalty": 1.0},
        metrics={"test_beam5": {"BLEU-4": 0.2}},
    )
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["decoder"]["vocab_size"] == 7 and config["metrics"]["test_beam5"]["BLEU-4"] == 0.2
    assert Vocabulary.load(tmp_path / "b" / "vocab.json").words == vocab.words
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "b" / "decoder.safetensors"))
    for name, value in decoder.state_dict().items():
        assert torch.equal(saved[name], value)


def test_loaded_captioner_gives_the_same_captions(bundle: Path) -> None:
    first = Captioner.from_pretrained(bundle)
    second = Captioner.from_pretrained(bundle)
    images = [photo(seed=1), photo(200, 300, seed=2)]
    a, b = first.caption(images), second.caption(images)
    assert [r.caption for r in a] == [r.caption for r in b]
    assert [r.score for r in a] == [r.score for r in b]


def test_caption_results(bundle: Path) -> None:
    captioner = Captioner.from_pretrained(bundle)
    results = captioner.caption([photo(), photo(mode="L")], beam_size=3)
    assert len(results) == 2
    for r in results:
        assert r.caption == " ".join(r.words) and r.words
        assert r.attention.shape == (len(r.words), 7, 7)
        assert np.allclose(r.attention.sum(axis=(1, 2)), 1.0, atol=1e-4)
        assert len(r.alternatives) == 2
        assert all(score <= r.score for _, score in r.alternatives)
    assert captioner.caption([]) == []


def test_batch_equals_one_by_one(bundle: Path) -> None:
    captioner = Captioner.from_pretrained(bundle)
    images = [photo(seed=s) for s in range(3)]
    together = captioner.caption(images)
    for image, result in zip(images, together, strict=True):
        alone = captioner.caption([image])[0]
        assert alone.caption == result.caption
        assert abs(alone.score - result.score) < 1e-4


def test_broken_bundles_are_refused(tmp_path: Path, bundle: Path) -> None:
    with pytest.raises(BundleError, match=r"config\.json"):
        load_bundle(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(BundleError, match="unknown bundle format"):
        load_bundle(tmp_path)
    config = json.loads((bundle / "config.json").read_text())
    config["encoder"]["weights"] = "missing.safetensors"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match="captionbot weights"):
        load_bundle(tmp_path)
