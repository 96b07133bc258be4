"""Time the model alone, per engine: encoder and decoder apart, at several batch sizes.

Photos are preprocessed once beforehand (resizing is the same for every engine), so the figures
are the model's: the encoder on a (B, 3, 224, 224) batch, then beam search with the engine's
decoder step. Each batch size goes over the same photos; batch size 1 also gives each photo's
latency. The first batch of each run is a warm-up and is not counted.
"""

import statistics
import time
from dataclasses import dataclass

import torch

from captioning.beam_search import beam_search
from captioning.engines.base import Engine
from captioning.vocabulary import Vocabulary


@dataclass(frozen=True)
class Latency:
    median_ms: float
    p95_ms: float


@dataclass(frozen=True)
class Throughput:
    encoder: float  # photos per second
    decoder: float
    total: float


@dataclass(frozen=True)
class EngineFigures:
    engine: str
    throughput: dict[int, Throughput]  # batch size -> photos per second
    latency: dict[str, Latency]  # "encoder", "decoder", "total" -> one photo at a time
    captions: list[str]  # of each photo, from the batch-1 run


@dataclass(frozen=True)
class Decoding:
    vocab: Vocabulary
    beam_size: int
    max_length: int
    length_penalty: float


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency(seconds: list[float]) -> Latency:
    return Latency(statistics.median(seconds) * 1000, percentile(seconds, 95) * 1000)


@torch.inference_mode()
def _run(
    engine: Engine, photos: torch.Tensor, batch: int, decoding: Decoding
) -> tuple[list[float], list[float], list[str]]:
    """Encoder and decoder seconds for each batch (after a warm-up batch), and the captions."""
    encode_s, decode_s, captions = [], [], []
    warm = photos[:batch]
    beam_search(engine.decoder, engine.encode(warm), decoding.beam_size, decoding.max_length)
    for start in range(0, len(photos), batch):
        chunk = photos[start : start + batch]
        began = time.perf_counter()
        feats = engine.encode(chunk)
        encoded = time.perf_counter()
        results = beam_search(
            engine.decoder, feats, decoding.beam_size, decoding.max_length,
            decoding.length_penalty,
        )
        decode_s.append(time.perf_counter() - encoded)
        encode_s.append(encoded - began)
        captions += [" ".join(decoding.vocab.decode(beams[0].tokens)) for beams in results]
    return encode_s, decode_s, captions


def measure(
    engine: Engine, photos: torch.Tensor, batch_sizes: list[int], decoding: Decoding
) -> EngineFigures:
    """photos (N, 3, 224, 224) in [0, 1]; batch sizes above N are measured at N."""
    throughput: dict[int, Throughput] = {}
    single: tuple[list[float], list[float]] = ([], [])
    captions: list[str] = []
    n = len(photos)
    for batch in batch_sizes:
        encode_s, decode_s, found = _run(engine, photos, min(batch, n), decoding)
        throughput[batch] = Throughput(
            n / sum(encode_s), n / sum(decode_s), n / (sum(encode_s) + sum(decode_s))
        )
        if batch == 1:
            single, captions = (encode_s, decode_s), found
    if not captions:
        encode_s, decode_s, captions = _run(engine, photos, 1, decoding)
        single = (encode_s, decode_s)
    encode_s, decode_s = single
    return EngineFigures(
        engine.name,
        throughput,
        {
            "encoder": latency(encode_s),
            "decoder": latency(decode_s),
            "total": latency([e + d for e, d in zip(encode_s, decode_s, strict=True)]),
        },
        captions,
    )
