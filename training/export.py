"""Step 4: write the best checkpoint as the model bundle the bot loads (`model_weights/`)."""

import json
import logging
from pathlib import Path
from typing import Any

import torch

from captioning.bundle import save_bundle
from training.data import load_vocab
from training.evaluate import load_checkpoint, report_path

log = logging.getLogger(__name__)


def export(work: Path, out: Path, encoder_weights: str, beam_size: int, max_length: int) -> Path:
    decoder, saved = load_checkpoint(work)
    metrics: dict[str, Any] = {}
    for split in ("dev", "test"):
        report = report_path(work, split, beam_size)
        if report.exists():
            metrics[split] = json.loads(report.read_text())["metrics"]
        else:
            log.warning(
                "no %s report for beam %d: run `evaluate --split %s` first", split, beam_size, split
            )
    history = torch.load(work / "checkpoints" / "last.pt", weights_only=True)["state"]["history"]
    training = {
        "data": "Flickr8k, official split (6000 train / 1000 dev / 1000 test)",
        "epoch": saved["epoch"],
        "history": [
            {k: h[k] for k in ("epoch", "loss", "dev_bleu4", "lr", "train_s")} for h in history
        ],
        "dev_bleu4_during_training": saved["dev_bleu4"],
        "settings": saved["train_config"],
    }
    decoding = {"beam_size": beam_size, "max_length": max_length, "length_penalty": 1.0}
    save_bundle(
        out,
        decoder,
        load_vocab(work),
        encoder_weights,
        decoding,
        training,
        {f"{split}_beam{beam_size}": m for split, m in metrics.items()},
    )
    log.info("bundle written to %s", out)
    return out
