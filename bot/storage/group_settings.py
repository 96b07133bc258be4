"""A group's own settings: whether every photo posted there is captioned (/auto)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.chats import chat_row
from bot.storage.models import Chat


def auto_caption(session: Session, chat_id: int) -> bool:
    return bool(session.scalar(select(Chat.auto_caption).where(Chat.id == chat_id)))


def set_auto_caption(session: Session, chat_id: int, chat_type: str, on: bool) -> None:
    chat_row(session, chat_id, chat_type).auto_caption = on
