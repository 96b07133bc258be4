"""`captionbot start` (what `make run` runs): the Telegram bot when there is a token, else the web
page, so that the model can be tried before anyone has talked to @BotFather."""

import argparse
import logging

from bot.settings import load_settings
from bot.web import command as web

log = logging.getLogger(__name__)

WEB_INSTEAD = (
    "TELEGRAM_BOT_TOKEN is not set, so this starts the web page instead of the Telegram bot: "
    "open %s in a browser. For the bot, open Telegram, talk to @BotFather, send /newbot and "
    "follow its questions; then start again with the token it gives: "
    "TELEGRAM_BOT_TOKEN=123456:ABC... make run (or put it in a .env file)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    web.add_arguments(parser)  # where the page listens, if it is the page that starts


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings is None:
        return 2
    if settings.telegram_bot_token:
        from bot import app

        return app.run(argparse.Namespace(webhook=None, no_worker=False))
    log.warning(WEB_INSTEAD, web.address(args.host, args.port))
    return web.run(args)
