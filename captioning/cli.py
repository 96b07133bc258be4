"""`captionbot caption PHOTO...` and `captionbot weights`: the engine from the command line."""

import argparse
import json
import logging
import sys
from pathlib import Path

from captioning.bundle_config import SHIPPED_BUNDLE, BundleError
from captioning.captioner import Captioner
from captioning.imagenet_weights import fetch_and_convert
from captioning.preprocessing import BadImageError, open_image

log = logging.getLogger(__name__)

DEFAULT_ENCODER_WEIGHTS = Path("model_weights/resnet50_imagenet.safetensors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", type=Path, help="image files")
    parser.add_argument("--model", type=Path, default=SHIPPED_BUNDLE, help="model bundle folder")
    parser.add_argument("--beam", type=int, default=None, help="beam size (default: the bundle's)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")


def run(args: argparse.Namespace) -> int:
    """Caption each photo; an unreadable one is reported on stderr and the rest still captioned."""
    try:
        captioner = Captioner.from_pretrained(args.model)
    except BundleError as exc:
        print(f"captionbot: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for path in args.photos:
        try:
            image = open_image(path)
        except (BadImageError, OSError) as exc:
            print(f"captionbot: {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        result = captioner.caption([image], args.beam)[0]
        if args.json:
            line = json.dumps(
                {
                    "image": str(path),
                    "caption": result.caption,
                    "kind": result.kind,
                    "score": round(result.score, 4),
                    "tags": [{"label": label, "probability": p} for label, p in result.tags],
                    "confident": result.confident,
                    "doubt": result.doubt,
                },
                ensure_ascii=False,
            )
        else:
            guess = f" (a guess: {result.doubt})" if result.doubt else ""
            line = f"{path}: {result.caption}{guess}"
        print(line, flush=True)
    return 1 if failed else 0


def add_weights_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="convert again even if the file exists"
    )


def fetch_weights(args: argparse.Namespace) -> int:
    target = DEFAULT_ENCODER_WEIGHTS
    if target.exists() and not args.force:
        log.info("%s is already there", target)
        return 0
    try:
        fetch_and_convert(target)
    except (RuntimeError, OSError) as exc:
        log.error("could not make the encoder weights: %s", exc)
        return 1
    return 0
