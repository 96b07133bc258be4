"""The `captionbot` command: one subcommand a job, each implemented where its idea lives."""

import argparse
import logging
import sys
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]


def add_caption(sub: argparse._SubParsersAction) -> None:
    from captioning.cli import add_arguments, run

    p = sub.add_parser("caption", help="caption photos from the command line")
    add_arguments(p)
    p.set_defaults(func=run)


def add_weights(sub: argparse._SubParsersAction) -> None:
    from captioning.cli import fetch_weights

    p = sub.add_parser("weights", help="fetch and convert the ImageNet encoder weights if missing")
    p.add_argument("--force", action="store_true", help="convert again even if the file exists")
    p.set_defaults(func=fetch_weights)


def add_run(sub: argparse._SubParsersAction) -> None:
    from bot.app import add_arguments, run

    p = sub.add_parser("run", help="start the Telegram bot (settings from the environment)")
    add_arguments(p)
    p.set_defaults(func=run)


def add_db(sub: argparse._SubParsersAction) -> None:
    from bot.storage.database import upgrade_command

    p = sub.add_parser("db", help="database maintenance")
    db = p.add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser("upgrade", help="apply the database migrations")
    upgrade.set_defaults(func=upgrade_command)


def add_health(sub: argparse._SubParsersAction) -> None:
    from bot.health import add_arguments, run

    p = sub.add_parser("health", help="check the settings, database and model (for health checks)")
    add_arguments(p)
    p.set_defaults(func=run)


def add_bench(sub: argparse._SubParsersAction) -> None:
    from bot.bench import add_arguments, run

    p = sub.add_parser("bench", help="time the model (each engine) and the whole service")
    add_arguments(p)
    p.set_defaults(func=run)


def add_engines(sub: argparse._SubParsersAction) -> None:
    from captioning.engines.command import add_arguments, run

    p = sub.add_parser("engines", help="build the fast engines' model files for a bundle")
    add_arguments(p)
    p.set_defaults(func=run)


# Each entry adds one subcommand; later features add theirs here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_caption,
    add_weights,
    add_run,
    add_db,
    add_health,
    add_bench,
    add_engines,
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="captionbot", description="A Telegram bot that describes photos."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sys.exit(args.func(args))
