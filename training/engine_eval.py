"""Score inference engines end to end: the whole Captioner, from the photo files of a split.

Unlike `evaluate` (the decoder on cached eager features), this runs each engine's own encoder on
the photos, so it shows what an engine's shortcuts (ONNX Runtime, int8) cost in BLEU. With the
eager engine among them, every other engine's BLEU-4 is compared with eager's, and one that
differs by more than TOLERANCE is reported as failing.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

from captioning.captioner import Captioner
from captioning.preprocessing import open_image
from training.flickr8k import load
from training.metrics import bleu

log = logging.getLogger(__name__)

TOLERANCE = 0.005  # the most BLEU-4 an engine may lose (or gain) against eager
BATCH = 16


def caption_split(captioner: Captioner, paths: list[Path], beam: int | None) -> list[str]:
    captions: list[str] = []
    for start in range(0, len(paths), BATCH):
        images = [open_image(path) for path in paths[start : start + BATCH]]
        captions += [result.caption for result in captioner.caption(images, beam)]
        if start // BATCH % 10 == 0:
            log.info("%d/%d photos", len(captions), len(paths))
    return captions


def evaluate_engines(
    bundle: Path,
    data: Path,
    split: str,
    engines: list[str],
    beam: int | None,
    limit: int | None,
    report: Path,
    grounded: bool = True,
) -> bool:
    """BLEU-1..4 of each engine on the split; True when every engine is within TOLERANCE of
    eager (or eager was not among them)."""
    dataset = load(data)
    names = dataset.splits[split][:limit] if limit else dataset.splits[split]
    paths = [dataset.image_dir / name for name in names]
    references = [dataset.captions[name] for name in names]
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        captioner = Captioner.from_pretrained(bundle, engine=engine, grounded=grounded)
        started = time.monotonic()
        captions = caption_split(captioner, paths, beam)
        seconds = time.monotonic() - started
        scores = bleu(captions, references)
        results[engine] = {
            "BLEU": [round(s, 4) for s in scores],
            "seconds": round(seconds, 1),
            "captions": captions,
        }
        log.info(
            "%s: BLEU-1..4 %s in %.0f s", engine, " ".join(f"{s:.4f}" for s in scores), seconds
        )
    ok = True
    decoding = "grounded" if grounded else "plain"
    lines = [
        f"{split} split, {len(paths)} photos, bundle {bundle}, beam {beam or 'of the bundle'}, "
        f"{decoding} decoding"
    ]
    for engine, result in results.items():
        line = f"{engine:<10} BLEU-4 {result['BLEU'][3]:.4f}  ({result['seconds']:.0f} s)"
        if "eager" in results and engine != "eager":
            delta = result["BLEU"][3] - results["eager"]["BLEU"][3]
            same = sum(
                a == b
                for a, b in zip(result["captions"], results["eager"]["captions"], strict=True)
            )
            within = abs(delta) <= TOLERANCE
            ok &= within
            line += (
                f"  {delta:+.4f} vs eager ({'within' if within else 'OUTSIDE'} "
                f"{TOLERANCE}); {same}/{len(paths)} captions the same"
            )
        lines.append(line)
    summary = "\n".join(lines)
    log.info("engines compared:\n%s", summary)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"summary": summary, "engines": results}, indent=1) + "\n")
    log.info("report written to %s", report)
    return ok
