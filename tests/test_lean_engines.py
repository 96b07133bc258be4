"""The serving engines hold only what they run: an ONNX Runtime engine whose files are built
needs no float32 encoder (not even built, nor torchvision) and keeps, of the float32 decoder,
only the layers of its initial state; prebuilt files are used from a read-only bundle."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import weakref
from pathlib import Path

import pytest
import torch

from captioning import encoder as encoder_module
from captioning.bundle import encoder_file, load_bundle, read_config
from captioning.captioner import Captioner
from captioning.decoder import Decoder
from captioning.encoder import Encoder, trunk_tensors
from captioning.engines import cache
from captioning.engines.cache import FOLDER
from captioning.engines.onnx_runtime import OrtStepDecoder
from captioning.engines.registry import load_engine
from tests.images import scene


@pytest.fixture(scope="module")
def built_bundle(tmp_path_factory: pytest.TempPathFactory, tiny_bundle: Path) -> Path:
    """The tiny bundle with its onnx and int8 files built (int8 calibrated on 4 photos)."""
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path_factory.mktemp("built") / "bundle"))
    encoder, decoder, _, _ = load_bundle(bundle)
    for name in ("onnx", "int8"):
        load_engine(name, bundle, encoder, decoder, calibration_data=None, calibration_count=4)
    return bundle


def test_the_weights_file_fingerprints_as_the_encoder_it_makes(tiny_bundle: Path) -> None:
    weights = encoder_file(tiny_bundle, read_config(tiny_bundle))
    from_file = cache.fingerprint_tensors(trunk_tensors(weights), opset=17)
    assert from_file == cache.fingerprint(Encoder.from_file(weights), opset=17)


@pytest.mark.parametrize("engine", ["onnx", "int8"])
def test_built_onnx_runtime_engines_build_no_float32_encoder(
    built_bundle: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise AssertionError("the float32 encoder was built")

    monkeypatch.setattr(encoder_module, "resnet50_v1", refuse)
    captioner = Captioner.from_pretrained(built_bundle, engine=engine)
    assert captioner.encoder is None and captioner.decoder is None
    assert isinstance(captioner.engine.decoder, OrtStepDecoder)
    assert captioner.caption([scene(1)])[0].caption


def test_the_decoder_beyond_its_initial_state_is_freed(built_bundle: Path) -> None:
    config = read_config(built_bundle)
    from captioning.bundle import load_decoder

    decoder, _ = load_decoder(built_bundle, config)
    gone = weakref.ref(decoder.out)  # a layer only the step uses
    weights = encoder_file(built_bundle, config)
    engine = load_engine("int8", built_bundle, weights, decoder)
    del decoder
    gc.collect()
    assert gone() is None
    feats = torch.rand(2, 49, 2048)
    assert isinstance(engine.decoder, OrtStepDecoder)
    h, c, proj = engine.decoder.init_state(feats)
    assert h.shape == c.shape == (2, engine.decoder.config.hidden_dim)
    assert proj.shape == (2, 49, engine.decoder.config.attention_dim)


def test_the_initial_state_is_the_decoders(tiny_bundle: Path) -> None:
    _, decoder, _, _ = load_bundle(tiny_bundle)
    assert isinstance(decoder, Decoder)
    feats = torch.rand(3, 49, 2048)
    from captioning.engines.onnx_runtime import InitialState

    with torch.inference_mode():
        for want, have in zip(decoder.init_state(feats), InitialState(decoder)(feats), strict=True):
            assert torch.equal(want, have)


def test_prebuilt_files_serve_from_a_read_only_bundle(
    built_bundle: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bundle = Path(shutil.copytree(built_bundle, tmp_path / "bundle"))
    (bundle / FOLDER / "encoder.onnx").unlink()  # int8 needs only its own files
    (bundle / FOLDER / "step.onnx").unlink()
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for the image's user
    with caplog.at_level(logging.INFO, logger="captioning.engines.cache"):
        captioner = Captioner.from_pretrained(bundle, engine="int8")
        assert captioner.caption([scene(2)])[0].caption
        assert "building" not in caplog.text and "not writable" not in caplog.text
        Captioner.from_pretrained(bundle, engine="onnx")  # its float32 files are gone
    assert "not writable" in caplog.text and "building" in caplog.text
