"""Step 3: score a trained decoder on a split with BLEU-1..4, METEOR and CIDEr.

Decodes every photo of the split from the feature cache with beam search, compares each caption
with all of that photo's references, and writes `<work>/reports/<split>_beam<N>.json` with the
metrics and a sample of captions beside their references.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from captioning.bundle_config import read_config
from captioning.decoder import Decoder, DecoderConfig
from training.data import load_split, load_vocab
from training.metrics import all_metrics
from training.train import decode_split

log = logging.getLogger(__name__)
SAMPLE_SIZE = 25


def load_checkpoint(work: Path, name: str = "best") -> tuple[Decoder, dict[str, Any]]:
    saved = torch.load(work / "checkpoints" / f"{name}.pt", weights_only=True)
    decoder = Decoder(DecoderConfig(**saved["model_config"]))
    decoder.load_state_dict(saved["decoder"])
    decoder.eval()
    return decoder, saved


def report_path(work: Path, split: str, beam_size: int) -> Path:
    return work / "reports" / f"{split}_beam{beam_size}.json"


def load_bundle_decoder(bundle: Path) -> tuple[Decoder, dict[str, Any]]:
    """The decoder of a model bundle, and its training epoch (the checkpoint's stand-in)."""
    config = read_config(bundle)
    decoder = Decoder(DecoderConfig(**config["decoder"]))
    decoder.load_state_dict(load_file(str(bundle / "decoder.safetensors")))
    decoder.eval()
    return decoder, {"epoch": config["training"].get("epoch"), "bundle": str(bundle)}


def evaluate(
    work: Path, split: str, beam_size: int, max_length: int, bundle: Path | None = None
) -> dict[str, Any]:
    """Score the best checkpoint in `work`, or the decoder of `bundle` (a shipped model whose
    checkpoints are not at hand), on the split's cached features."""
    decoder, saved = load_bundle_decoder(bundle) if bundle else load_checkpoint(work)
    vocab, data = load_vocab(work), load_split(work, split)
    started = time.time()
    hypotheses = decode_split(decoder, data, vocab, beam_size, max_length)
    decode_s = time.time() - started
    metrics = all_metrics(hypotheses, data.references)
    report = {
        "split": split,
        "photos": len(hypotheses),
        "beam_size": beam_size,
        "max_length": max_length,
        "epoch": saved["epoch"],
        "decoder": saved.get("bundle", "best checkpoint"),
        "metrics": metrics,
        "decode_seconds": round(decode_s, 1),
        "sample": [
            {"image": data.images[i], "caption": hypotheses[i], "references": data.references[i]}
            for i in range(min(SAMPLE_SIZE, len(hypotheses)))
        ],
    }
    path = report_path(work, split, beam_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log.info(
        "%s, beam %d: %s", split, beam_size, ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
    )
    log.info("report written to %s", path)
    return report
