"""What the handlers share: settings, database sessions, queue, translator and worker.

One `Services` object is built by bot/app.py and kept in `application.bot_data`.
"""

from dataclasses import dataclass
from typing import cast

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import ContextTypes

from bot.queue import CaptionQueue
from bot.settings import Settings
from bot.storage import chats
from bot.translation import Translator
from bot.typing_indicator import TypingIndicator
from bot.update_budget import UpdateBudget
from bot.worker import CaptionWorker

KEY = "services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    queue: CaptionQueue
    translator: Translator
    typing: TypingIndicator
    worker: CaptionWorker
    updates: UpdateBudget  # the flood gate's count of each user's other updates

    def chat_language(self, chat_id: int) -> str | None:
        with self.sessions() as session:
            return chats.chat_language(session, chat_id)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return cast(Services, context.bot_data[KEY])


def user_language_code(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None
