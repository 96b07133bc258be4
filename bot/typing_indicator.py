"""The "typing…" indicator, sent at most once per chat while the previous one still shows, so a
burst of photos costs one chat action, not one each (Telegram's flood limits count them)."""

import logging
import time

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

log = logging.getLogger(__name__)

SHOWS_FOR_S = 4.0  # Telegram shows a chat action for about 5 s


class TypingIndicator:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._last_sent: dict[int, float] = {}

    async def show(self, chat_id: int) -> None:
        now = time.monotonic()
        if now - self._last_sent.get(chat_id, -SHOWS_FOR_S) < SHOWS_FOR_S:
            return
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:  # forget chats whose indicator has long expired
            self._last_sent = {k: v for k, v in self._last_sent.items() if now - v < SHOWS_FOR_S}
        try:
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("typing in chat %d: %s", chat_id, exc)
