"""`captionbot engines`: build the engine files of a bundle ahead of time (into `BUNDLE/onnx/`).

The bot builds what its engine needs on first use, but building here, where the Flickr8k training
photos are, calibrates the int8 encoder on them; a Docker image built afterwards takes the files
along with the bundle.
"""

import argparse
import logging
from pathlib import Path

from captioning.bundle import BundleError, load_bundle
from captioning.engines import calibration
from captioning.engines.cache import FOLDER
from captioning.engines.registry import ENGINES, load_engine

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "engines",
        nargs="*",
        metavar="ENGINE",
        help=f"engines to build (default: all of {', '.join(ENGINES)})",
    )
    parser.add_argument(
        "--model", type=Path, default=Path("model_weights/flickr8k"), help="model bundle folder"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=calibration.DEFAULT_DATA,
        help="Flickr8k folder whose training photos calibrate int8",
    )


def run(args: argparse.Namespace) -> int:
    try:
        encoder, decoder, _, _ = load_bundle(args.model)
    except BundleError as exc:
        log.error("%s", exc)
        return 2
    unknown = [name for name in args.engines if name not in ENGINES]
    if unknown:
        log.error("unknown engine(s) %s; choose from %s", ", ".join(unknown), ", ".join(ENGINES))
        return 2
    for name in args.engines or ENGINES:
        load_engine(name, args.model, encoder, decoder, calibration_data=args.data)
        log.info("engine %s is ready", name)
    for path in sorted((args.model / FOLDER).glob("*.onnx")):
        log.info("%s: %.1f MB", path, path.stat().st_size / 1e6)
    return 0
