"""Time the model alone, per engine: encoder and decoder apart, at several batch sizes.

Photos are preprocessed once beforehand (resizing is the same for every engine), so the figures
are the model's: the encoder on a (B, 3, 224, 224) batch, then beam search with the engine's
decoder step. Each batch size goes over the same photos; batch size 1 also gives each photo's
latency. Before each batch size every engine runs one uncounted warm-up batch.
"""

import statistics
import time
from dataclasses import dataclass

import torch

from captioning.engines.base import Engine
from captioning.grounding import Grounding, grounded_beam_search
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
    grounding: Grounding | None = None  # the bundle's, as the bot decodes


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
def _time_batch(
    engine: Engine, chunk: torch.Tensor, decoding: Decoding
) -> tuple[float, float, list[str]]:
    """Encoder seconds, decoder seconds, and the captions of one batch."""
    began = time.perf_counter()
    feats = engine.encode(chunk)
    encoded = time.perf_counter()
    results = grounded_beam_search(
        engine.decoder,
        feats,
        decoding.beam_size,
        decoding.max_length,
        decoding.length_penalty,
        decoding.grounding,
    )
    decoded = time.perf_counter()
    captions = [
        " ".join(decoding.vocab.decode(choice.beams[0].tokens)) if choice.beams else "(objects)"
        for choice in results
    ]
    return encoded - began, decoded - encoded, captions


def measure(
    engines: list[Engine], photos: torch.Tensor, batch_sizes: list[int], decoding: Decoding
) -> list[EngineFigures]:
    """photos (N, 3, 224, 224) in [0, 1]; batch sizes above N are measured at N.

    The engines take turns batch by batch, so a change in the machine's load during the run
    touches them all alike."""
    n = len(photos)
    seconds: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
    captions: dict[str, list[str]] = {engine.name: [] for engine in engines}
    for batch in sorted({1, *batch_sizes}):
        size = min(batch, n)
        for engine in engines:
            _time_batch(engine, photos[:size], decoding)  # warm-up: first-call set-up costs
            seconds[engine.name, batch] = ([], [])
        for start in range(0, n, size):
            chunk = photos[start : start + size]
            for engine in engines:
                encode_s, decode_s, found = _time_batch(engine, chunk, decoding)
                seconds[engine.name, batch][0].append(encode_s)
                seconds[engine.name, batch][1].append(decode_s)
                if batch == 1:
                    captions[engine.name] += found
    figures = []
    for engine in engines:
        throughput = {}
        for batch in batch_sizes:
            encode_s, decode_s = (sum(part) for part in seconds[engine.name, batch])
            throughput[batch] = Throughput(n / encode_s, n / decode_s, n / (encode_s + decode_s))
        encode_one, decode_one = seconds[engine.name, 1]
        figures.append(
            EngineFigures(
                engine.name,
                throughput,
                {
                    "encoder": latency(encode_one),
                    "decoder": latency(decode_one),
                    "total": latency([e + d for e, d in zip(encode_one, decode_one, strict=True)]),
                },
                captions[engine.name],
            )
        )
    return figures


@torch.inference_mode()
def grounding_cost(
    engine: Engine, photos: torch.Tensor, decoding: Decoding
) -> tuple[Latency, Latency]:
    """One photo's beam search, grounded (as the bot decodes) and plain in turn on the same
    features: their latencies (grounded, plain). Which goes first alternates: the first after the
    encoder finds the decoder's weights out of the CPU's caches."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(len(photos)):
        feats = engine.encode(photos[i : i + 1])
        for grounded in (True, False) if i % 2 else (False, True):
            began = time.perf_counter()
            grounded_beam_search(
                engine.decoder,
                feats,
                decoding.beam_size,
                decoding.max_length,
                decoding.length_penalty,
                decoding.grounding if grounded else None,
            )
            if i:  # the first photo warms both up
                times[grounded].append(time.perf_counter() - began)
    return latency(times[True] or [0.0]), latency(times[False] or [0.0])
