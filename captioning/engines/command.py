"""`captionbot engines`: build the engine files of a bundle ahead of time (into `BUNDLE/onnx/`).

The bot builds what its engine needs on first use; building here lets a Docker image take the
files along with the bundle. `--calibrate` measures the int8 encoder's activation ranges again on
the Flickr8k training photos and writes the ranges file that is committed with the project.
"""

import argparse
import logging
import tempfile
from functools import partial
from pathlib import Path

from captioning.bundle import BundleError, load_bundle
from captioning.bundle_config import SHIPPED_BUNDLE
from captioning.decoder import Decoder
from captioning.encoder import Encoder
from captioning.engines import calibration
from captioning.engines.cache import FOLDER
from captioning.engines.names import ENGINES, engine_name
from captioning.engines.registry import load_engine

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "engines",
        nargs="*",
        metavar="ENGINE",
        type=engine_name,
        help=f"engines to build (default: all of {', '.join(ENGINES)})",
    )
    parser.add_argument("--model", type=Path, default=SHIPPED_BUNDLE, help="model bundle folder")
    parser.add_argument(
        "--data",
        type=Path,
        default=calibration.DEFAULT_DATA,
        help="Flickr8k folder whose training photos calibrate int8 "
        "(used with --calibrate, or where the ranges file is missing)",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the int8 activation ranges again on the Flickr8k training photos",
    )


def run(args: argparse.Namespace) -> int:
    try:
        encoder, decoder, _, _ = load_bundle(args.model)
    except BundleError as exc:
        log.error("%s", exc)
        return 2
    names = args.engines or list(ENGINES)
    if args.calibrate:
        if not calibration.flickr8k_train_photos(args.data, calibration.COUNT):
            log.error("--calibrate needs the Flickr8k training photos; none at %s", args.data)
            return 2
        calibrate(args.model, encoder, decoder, args.data)
    for name in names:
        load_engine(name, args.model, encoder, decoder, calibration_data=args.data)
        log.info("engine %s is ready", name)
    for path in sorted((args.model / FOLDER).glob("*.onnx")):
        log.info("%s: %.1f MB", path, path.stat().st_size / 1e6)
    return 0


def calibrate(bundle: Path, encoder: Encoder, decoder: Decoder, data: Path) -> None:
    """Measure the encoder's int8 activation ranges on Flickr8k training photos, into the file
    every int8 build then uses."""
    from captioning.engines import quantize

    load_engine("onnx", bundle, encoder, decoder)  # the float32 graph the ranges are measured on
    ranges = calibration.ranges_file(bundle)
    ranges.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        quantize.quantize_encoder(
            bundle / FOLDER / "encoder.onnx",
            Path(scratch) / "encoder-int8.onnx",
            ranges,
            partial(calibration.calibration_batch, data, calibration.COUNT),
        )
    log.info("int8 activation ranges written to %s", ranges)
