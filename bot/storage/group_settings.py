"""A group's own settings: whether every photo posted there is captioned (/auto)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Chat


def auto_caption(session: Session, chat_id: int) -> bool:
    return bool(session.scalar(select(Chat.auto_caption).where(Chat.id == chat_id)))


def set_auto_caption(session: Session, chat_id: int, chat_type: str, on: bool) -> None:
    chat = session.get(Chat, chat_id)
    if chat is None:
        session.add(Chat(id=chat_id, type=chat_type, auto_caption=on))
    else:
        chat.auto_caption = on
