"""/start, /help, and commands the bot does not know."""

import logging

from telegram import BotCommand, Update

from bot.handlers.reply import reply
from bot.services import BotContext
from bot.texts import t

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "lang", "history", "forget", "caption", "auto")


def command_list(language: str) -> list[BotCommand]:
    """The command menu Telegram shows, in one language."""
    return [BotCommand(name, t(f"cmd_{name}", language)) for name in COMMANDS]


async def start(update: Update, context: BotContext) -> None:
    await reply(update, context, "start")


async def help_command(update: Update, context: BotContext) -> None:
    await reply(update, context, "help")


async def unknown(update: Update, context: BotContext) -> None:
    message = update.effective_message
    log.info("unknown command %r", message.text if message else None)
    await reply(update, context, "unknown_command")
