"""The "typing…" indicator, sent at most once per chat while the previous one still shows, so a
burst of photos costs one chat action, not one each.

Telegram lets a bot make about 30 requests a second, and the rate limiter counts chat actions
with the replies; the indicator is a courtesy, so it gets a small share of that budget and is
skipped, not queued, when the share is spent (under load, replies come first).
"""

import logging
import time

from aiolimiter import AsyncLimiter
from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

log = logging.getLogger(__name__)

SHOWS_FOR_S = 4.0  # Telegram shows a chat action for about 5 s
ACTIONS_PER_S = 5  # of the bot's ~30 requests a second


class TypingIndicator:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._last_sent: dict[int, float] = {}
        self._budget = AsyncLimiter(ACTIONS_PER_S, 1.0)

    async def show(self, chat_id: int) -> None:
        now = time.monotonic()
        if now - self._last_sent.get(chat_id, -SHOWS_FOR_S) < SHOWS_FOR_S:
            return
        if not self._budget.has_capacity():
            log.debug("typing in chat %d skipped: the chat-action budget is spent", chat_id)
            return
        await self._budget.acquire()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > 10_000:  # forget chats whose indicator has long expired
            self._last_sent = {k: v for k, v in self._last_sent.items() if now - v < SHOWS_FOR_S}
        try:
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("typing in chat %d: %s", chat_id, exc)
