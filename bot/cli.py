"""The `captionbot` command: one subcommand a job, each implemented where its idea lives.

Only the chosen subcommand's module is imported (its arguments are added once it is chosen), so
`captionbot health`, which a container runs every minute, loads neither torch nor ONNX Runtime.
"""

import argparse
import importlib
import logging
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Subcommand:
    """`module` implements it: its function `arguments(parser)` adds the options, `function(args)`
    runs it and returns the exit status."""

    name: str
    module: str
    help: str
    function: str = "run"
    arguments: str = "add_arguments"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        implementation = importlib.import_module(self.module)
        getattr(implementation, self.arguments)(parser)
        parser.set_defaults(func=getattr(implementation, self.function))


SUBCOMMANDS = [
    Subcommand("caption", "captioning.cli", "caption photos from the command line"),
    Subcommand(
        "weights",
        "captioning.cli",
        "fetch and convert the ImageNet encoder weights if missing",
        function="fetch_weights",
        arguments="add_weights_arguments",
    ),
    Subcommand("run", "bot.app", "start the Telegram bot (settings from the environment)"),
    Subcommand(
        "worker",
        "bot.app",
        "caption queued photos and reply, taking no updates (beside `run --no-worker`)",
        function="run_worker",
        arguments="add_worker_arguments",
    ),
    Subcommand(
        "start", "bot.start", "start the bot if TELEGRAM_BOT_TOKEN is set, else the web page"
    ),
    Subcommand(
        "db",
        "bot.storage.database",
        "database maintenance",
        function="upgrade_command",
        arguments="add_db_arguments",
    ),
    Subcommand(
        "health", "bot.health", "check the settings, database and model (for health checks)"
    ),
    Subcommand("bench", "bot.bench.command", "time the model (each engine) and the whole service"),
    Subcommand(
        "engines", "captioning.engines.command", "build the fast engines' model files for a bundle"
    ),
    Subcommand("web", "bot.web.command", "serve the web page that captions photos (Streamlit)"),
]


def chosen(argv: list[str]) -> str | None:
    """The subcommand named in `argv`: its first word that is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="captionbot", description="A Telegram bot that describes photos."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    name = chosen(argv)
    for command in SUBCOMMANDS:
        p = sub.add_parser(command.name, help=command.help)
        if command.name == name:
            command.configure(p)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    sys.exit(args.func(args))
