"""The fast engines give the eager engine's captions: ONNX exactly, bf16 and int8 within a stated
tolerance.

Tolerance for bf16 and int8: reduced precision moves the features a little, so beam search may
pick another caption when two are close. The engine's captions, scored by the eager model, must
then be within SCORE_TOLERANCE (length-normalised log-probability, averaged over the photos) of
the eager engine's best captions: ones the reference model finds about as likely, not arbitrary.
The test checks that this tolerance rejects the captions of a model shown blank features.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from onnxruntime.quantization import quant_pre_process
from PIL import Image
from safetensors.torch import load_file

from bot.settings import Settings
from captioning import preprocessing
from captioning.bundle import load_bundle
from captioning.captioner import Captioner, CaptionResult
from captioning.encoder import Encoder
from captioning.engines import cache, calibration, onnx_export, quantize, registry
from captioning.engines.bf16 import Bf16Encoder, has_bf16
from captioning.engines.calibration import generated_photo
from captioning.engines.names import ENGINES
from captioning.engines.registry import EngineError, load_engine
from captioning.vocabulary import Vocabulary
from tests.images import scene

SCORE_TOLERANCE = 0.03
WEIGHTS = Path(__file__).parent.parent / "model_weights" / "resnet50_imagenet.safetensors"
RANGES = WEIGHTS.with_name("resnet50_imagenet.int8-ranges.json")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [scene(seed) for seed in range(6)]


@pytest.fixture(scope="module")
def eager(tiny_bundle: Path) -> Captioner:
    return Captioner.from_pretrained(tiny_bundle, engine="eager")


def captioner_with(bundle: Path, engine: str) -> Captioner:
    """A Captioner on `engine`, its int8 encoder calibrated on 4 generated photos (quick)."""
    encoder, decoder, vocab, config = load_bundle(bundle)
    runtime = load_engine(
        engine, bundle, encoder, decoder, calibration_data=None, calibration_count=4
    )
    d = config["decoding"]
    return Captioner(
        encoder, decoder, vocab, d["beam_size"], d["max_length"], d["length_penalty"], runtime
    )


def eager_score(captioner: Captioner, feats: torch.Tensor, words: list[str]) -> float:
    """The eager decoder's length-normalised log-probability of `words` then <end> (no <end>
    when the caption ran to the length limit), as beam search scores it."""
    decoder = captioner.decoder
    tokens = [captioner.vocab.index[w] for w in words]
    if len(words) < captioner.max_length:
        tokens.append(Vocabulary.end)
    with torch.inference_mode():
        h, c, proj = decoder.init_state(feats)
        previous = torch.tensor([Vocabulary.start])
        total = 0.0
        for token in tokens:
            logits, h, c, _ = decoder.step(previous, feats, proj, h, c)
            total += float(logits.log_softmax(-1)[0, token])
            previous = torch.tensor([token])
    return total / len(tokens)


def test_onnx_engine_gives_the_same_captions(
    tiny_bundle: Path, eager: Captioner, photos: list[Image.Image]
) -> None:
    fast = Captioner.from_pretrained(tiny_bundle, engine="onnx")
    assert fast.engine.name == "onnx"
    expected, got = eager.caption(photos), fast.caption(photos)
    for want, have in zip(expected, got, strict=True):
        assert have.caption == want.caption
        # other beams may swap places where two are tied to float precision; their scores agree
        assert [score for _, score in have.alternatives] == pytest.approx(
            [score for _, score in want.alternatives], abs=1e-4
        )
        assert have.score == pytest.approx(want.score, abs=1e-4)
        np.testing.assert_allclose(have.attention, want.attention, atol=1e-4)


def mean_gap(
    eager: Captioner, feats: torch.Tensor, best: list[CaptionResult], got: list[CaptionResult]
) -> float:
    """How much less likely, on average, the eager model finds `got` than its own `best`."""
    gaps = [
        b.score - eager_score(eager, feats[i : i + 1], g.words)
        for i, (b, g) in enumerate(zip(best, got, strict=True))
    ]
    return sum(gaps) / len(gaps)


@pytest.mark.parametrize("engine", ["bf16", "int8"])
def test_reduced_precision_engines_are_within_tolerance(
    tiny_bundle: Path, eager: Captioner, photos: list[Image.Image], engine: str
) -> None:
    fast = captioner_with(tiny_bundle, engine)
    feats = eager.encode(photos)
    best = eager.caption(photos)
    blind = mean_gap(eager, feats, best, eager.decode(torch.zeros_like(feats)))
    assert blind > SCORE_TOLERANCE, "the tolerance must tell apart a captioner that sees nothing"
    gap = mean_gap(eager, feats, best, fast.caption(photos))
    assert gap <= SCORE_TOLERANCE, [r.caption for r in fast.caption(photos)]
    if engine == "bf16":  # without AVX-512 BF16 it is the onnx engine, and says so
        assert fast.engine.name == ("bf16" if has_bf16() else "onnx")
        assert isinstance(fast.engine.encode, Bf16Encoder) == has_bf16()
    else:
        assert fast.engine.name == engine


def test_bf16_without_native_bfloat16_is_the_onnx_engine(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(registry, "has_bf16", lambda: False)
    fallback = captioner_with(tiny_bundle, "bf16")
    assert fallback.engine.name == "onnx" and not isinstance(fallback.engine.encode, Bf16Encoder)
    assert "no native bfloat16" in caplog.text


def test_the_bf16_encoder_keeps_the_features(eager: Captioner, photos: list[Image.Image]) -> None:
    """The bf16 encoder itself, on any CPU (emulated where bfloat16 is not native)."""
    batch = preprocessing.batch(photos)
    want = eager.encode(photos)
    have = Bf16Encoder(eager.encoder)(batch)
    assert have.dtype == torch.float32 and have.shape == want.shape
    relative = (have - want).norm() / want.norm()
    assert 0 < relative < 0.05, relative


def test_committed_int8_ranges_fit_the_exported_encoder(tmp_path: Path) -> None:
    """The ranges file names the tensors of the encoder graph this PyTorch exports (names do not
    depend on the weights, so a random encoder shows them)."""
    assert RANGES.is_file()
    exported, prepared = tmp_path / "encoder.onnx", tmp_path / "prepared.onnx"
    onnx_export.export_encoder(Encoder(), exported)
    quant_pre_process(str(exported), str(prepared))
    assert quantize.ranges_fit(RANGES, prepared)
    blank = tmp_path / "other.json"
    blank.write_text('{"data": {"no such tensor": {}}}')
    assert not quantize.ranges_fit(blank, prepared)


@pytest.mark.weights
@pytest.mark.skipif(not WEIGHTS.exists(), reason=f"needs {WEIGHTS}")
def test_int8_encoder_keeps_the_real_features(
    tmp_path: Path, tiny_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With the real ImageNet weights and the committed ranges, int8 features point where the
    float32 ones do."""
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))
    shutil.copy(RANGES, calibration.ranges_file(bundle))  # as the shipped bundle finds them
    encoder = Encoder()
    encoder.load_trunk(load_file(str(WEIGHTS)))
    decoder = load_bundle(bundle)[1]
    with caplog.at_level(logging.INFO, logger="captioning.engines.quantize"):
        engine = load_engine("int8", bundle, encoder, decoder, calibration_data=None)
    assert "int8 activation ranges from" in caplog.text  # no photos were needed
    rng = np.random.default_rng(5)
    pixels = preprocessing.batch([scene(7), scene(8), generated_photo(rng)])
    with torch.inference_mode():
        want, have = encoder(pixels), engine.encode(pixels)
    cosine = torch.nn.functional.cosine_similarity(have, want, dim=-1)  # (B, 49)
    assert float(cosine.mean()) > 0.9  # a broken quantisation gives about 0


def test_built_files_are_cached_until_the_weights_change(tmp_path: Path) -> None:
    builds: list[Path] = []

    def build(path: Path) -> None:
        builds.append(path)
        path.write_text("model")

    first = cache.cached(tmp_path, "m.onnx", {"weights_sha256": "a"}, build)
    again = cache.cached(tmp_path, "m.onnx", {"weights_sha256": "a"}, build)
    assert first == again == tmp_path / "m.onnx" and len(builds) == 1
    cache.cached(tmp_path, "m.onnx", {"weights_sha256": "b"}, build)
    assert len(builds) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_fingerprint_follows_the_weights() -> None:
    layer = torch.nn.Linear(3, 2)
    before = cache.fingerprint(layer, opset=17)
    with torch.no_grad():
        layer.weight[0, 0] += 1
    assert cache.fingerprint(layer, opset=17) != before


def test_unknown_engine_is_refused(tiny_bundle: Path) -> None:
    with pytest.raises(EngineError, match="eager"):
        Captioner.from_pretrained(tiny_bundle, engine="turbo")


def test_the_bot_setting_offers_every_engine() -> None:
    annotation = Settings.model_fields["engine"].annotation
    assert annotation is not None
    assert tuple(annotation.__args__) == ENGINES
    assert Settings.model_fields["engine"].default in ENGINES
