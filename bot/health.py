"""`captionbot health`: whether this installation can serve, for a container's health check.

It checks that the settings are valid, the database answers and has every migration applied, and
the model bundle's files are all there and readable; `--load-model` also loads the model and
captions a blank picture (seconds of CPU, so not what a frequent health check should run). Exit
status 0 when healthy, 1 with a log line naming the problem otherwise.
"""

import argparse
import logging
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from PIL import Image
from safetensors import safe_open
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import load_settings
from bot.storage.database import alembic_config, make_engine
from captioning.bundle_format import BundleError, read_config

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load-model",
        action="store_true",
        help="also load the model and caption a blank picture (slow)",
    )


def database_problem(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return f"the database does not answer: {exc}"
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != head:
        return f"the database is at migration {current}, not {head}: run `captionbot db upgrade`"
    return None


def bundle_problem(path: Path) -> str | None:
    try:
        config = read_config(path)
    except BundleError as exc:
        return str(exc)
    for needed in (
        path / "vocab.json",
        path / "decoder.safetensors",
        path / config["encoder"]["weights"],
    ):
        if not needed.is_file():
            return f"the model file {needed} is missing"
        if needed.suffix == ".safetensors":
            try:  # reads the header only: a truncated or foreign file fails here
                with safe_open(str(needed), framework="numpy") as weights:
                    weights.keys()
            except Exception as exc:
                return f"the model file {needed} is not readable: {exc}"
    return None


def model_problem(path: Path) -> str | None:
    from captioning.captioner import Captioner

    try:
        Captioner.from_pretrained(path).caption([Image.new("RGB", (64, 64))], beam_size=1)
    except Exception as exc:
        return f"the model does not load: {exc}"
    return None


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return 1
    problem = (
        database_problem(settings.database_url)
        or bundle_problem(settings.model_path)
        or (model_problem(settings.model_path) if args.load_model else None)
    )
    if problem:
        log.error("unhealthy: %s", problem)
        return 1
    log.info("healthy")
    return 0
