"""What the handlers share: settings, database sessions, queue, translator and worker. Their
database calls go through `Services.read` and `Services.write`, in threads, off the event loop.

One `Services` object is built by bot/app.py and kept in `application.bot_data` (a `BotData`);
handlers take a `BotContext`, python-telegram-bot's context typed with it.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.loop_lag import LoopLag
from bot.metrics import Metrics
from bot.queue import CaptionQueue
from bot.retention import HistoryPruner
from bot.settings import Settings
from bot.storage import chats
from bot.translation import Translator
from bot.typing_indicator import TypingIndicator
from bot.update_budget import UpdateBudget

P = ParamSpec("P")
T = TypeVar("T")

if TYPE_CHECKING:  # the worker brings the model (torch); a front without one never imports it
    from bot.worker import CaptionWorker


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    queue: CaptionQueue
    translator: Translator
    typing: TypingIndicator
    worker: "CaptionWorker | None"  # None: this process takes updates only (`run --no-worker`)
    updates: UpdateBudget  # the flood gate's count of each user's other updates
    metrics: Metrics
    history: HistoryPruner
    loop_lag: LoopLag
    deduplicate_updates: bool = False  # webhook replicas may each get an update: answer it once

    async def read(
        self, query: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`query(session, ...)` in a thread, off the event loop."""

        def run() -> T:
            with self.sessions() as session:
                return query(session, *args, **kwargs)

        return await asyncio.to_thread(run)

    async def write(
        self, change: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`change(session, ...)` in a thread, off the event loop, in a transaction."""

        def run() -> T:
            with self.sessions.begin() as session:
                return change(session, *args, **kwargs)

        return await asyncio.to_thread(run)

    async def chat_language(self, chat_id: int) -> str | None:
        return await self.read(chats.chat_language, chat_id)


class BotData:
    """`application.bot_data`: the `Services`, set once by bot/app.py before updates flow."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the services are not set up yet (bot/app.py does it)")
        return self._services

    @services.setter
    def services(self, value: Services) -> None:
        self._services = value


BotContext = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def services(context: BotContext) -> Services:
    return context.bot_data.services


def user_language_code(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None
