"""Score inference engines end to end: the whole Captioner, from the photo files of a split.

Unlike `evaluate` (the decoder on cached eager features), this runs each engine's own encoder on
the photos, so it shows what an engine's shortcuts (ONNX Runtime, int8) cost in BLEU. With the
eager engine among them, every other engine's BLEU-4 is compared with eager's, and one that
differs by more than TOLERANCE is reported as failing. Beside BLEU it reports what a reader sees
(see `everyday.py`): captions with a broken subject, hedged sentences, and people recall on the
photos whose references mostly name people.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

from captioning.captioner import Captioner
from captioning.preprocessing import open_image
from training.everyday import people_recall, reader_figures
from training.flickr8k import load
from training.metrics import bleu

log = logging.getLogger(__name__)

TOLERANCE = 0.005  # the most BLEU-4 an engine may lose (or gain) against eager
BATCH = 16


def caption_split(
    captioner: Captioner, paths: list[Path], beam: int | None
) -> tuple[list[str], list[bool]]:
    """-> each photo's caption, and whether it is a hedged sentence of the classifier's labels."""
    captions: list[str] = []
    hedged: list[bool] = []
    for start in range(0, len(paths), BATCH):
        images = [open_image(path) for path in paths[start : start + BATCH]]
        results = captioner.caption(images, beam)
        captions += [result.caption for result in results]
        hedged += [result.kind == "objects" for result in results]
        if start // BATCH % 10 == 0:
            log.info("%d/%d photos", len(captions), len(paths))
    return captions, hedged


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
        captions, hedged = caption_split(captioner, paths, beam)
        seconds = time.monotonic() - started
        scores = bleu(captions, references)
        reader = reader_figures(captions, hedged)
        recall, with_people = people_recall(captions, references)
        results[engine] = {
            "BLEU": [round(s, 4) for s in scores],
            "seconds": round(seconds, 1),
            "broken_subject": round(reader["broken_subject"], 4),
            "hedged": round(reader["hedged"], 4),
            "people_recall": round(recall, 4),
            "photos_with_people": with_people,
            "broken_captions": reader["broken_captions"],
            "captions": captions,
        }
        log.info(
            "%s: BLEU-1..4 %s in %.0f s; broken subjects %.2f %%, hedged %.2f %%, people recall "
            "%.2f %% of %d",
            engine,
            " ".join(f"{s:.4f}" for s in scores),
            seconds,
            100 * reader["broken_subject"],
            100 * reader["hedged"],
            100 * recall,
            with_people,
        )
    ok = True
    decoding = "grounded" if grounded else "plain"
    lines = [
        f"{split} split, {len(paths)} photos, bundle {bundle}, beam {beam or 'of the bundle'}, "
        f"{decoding} decoding"
    ]
    for engine, result in results.items():
        line = (
            f"{engine:<10} BLEU-4 {result['BLEU'][3]:.4f}  broken subjects "
            f"{100 * result['broken_subject']:.2f} %  people recall "
            f"{100 * result['people_recall']:.2f} %  hedged {100 * result['hedged']:.2f} %  "
            f"({result['seconds']:.0f} s)"
        )
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
