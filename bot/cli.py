"""The `captionbot` command: one subcommand a job, each implemented where its idea lives."""

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]


def module_command(
    name: str, module: str, help: str
) -> Callable[[argparse._SubParsersAction], None]:
    """A subcommand implemented by `module`'s `add_arguments(parser)` and `run(args) -> int`."""

    def add(sub: argparse._SubParsersAction) -> None:
        implementation = importlib.import_module(module)
        p = sub.add_parser(name, help=help)
        implementation.add_arguments(p)
        p.set_defaults(func=implementation.run)

    return add


def add_weights(sub: argparse._SubParsersAction) -> None:
    from captioning.cli import fetch_weights

    p = sub.add_parser("weights", help="fetch and convert the ImageNet encoder weights if missing")
    p.add_argument("--force", action="store_true", help="convert again even if the file exists")
    p.set_defaults(func=fetch_weights)


def add_db(sub: argparse._SubParsersAction) -> None:
    from bot.storage.database import upgrade_command

    p = sub.add_parser("db", help="database maintenance")
    db = p.add_subparsers(dest="db_command", required=True)
    upgrade = db.add_parser("upgrade", help="apply the database migrations")
    upgrade.set_defaults(func=upgrade_command)


# Each entry adds one subcommand; later features add theirs here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    module_command("caption", "captioning.cli", "caption photos from the command line"),
    add_weights,
    module_command("run", "bot.app", "start the Telegram bot (settings from the environment)"),
    module_command(
        "start", "bot.start", "start the bot if TELEGRAM_BOT_TOKEN is set, else the web page"
    ),
    add_db,
    module_command(
        "health", "bot.health", "check the settings, database and model (for health checks)"
    ),
    module_command("bench", "bot.bench", "time the model (each engine) and the whole service"),
    module_command(
        "engines", "captioning.engines.command", "build the fast engines' model files for a bundle"
    ),
    module_command("web", "bot.web.command", "serve the web page that captions photos (Streamlit)"),
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
