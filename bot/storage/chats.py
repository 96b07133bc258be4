"""Chats and users: who talks to the bot, and each chat's settings."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Chat, User, utcnow


def remember(
    session: Session, *, chat_id: int, chat_type: str, user_id: int, language_code: str | None
) -> tuple[Chat, User]:
    """Create or refresh the chat and user rows for an incoming message."""
    chat = chat_row(session, chat_id, chat_type)
    user = session.get(User, user_id)
    if user is None:
        user = User(id=user_id, language_code=language_code)
        session.add(user)
    else:
        user.language_code = language_code or user.language_code
        user.last_seen_at = utcnow()
    session.flush()
    return chat, user


def chat_row(session: Session, chat_id: int, chat_type: str) -> Chat:
    """The chat's row, created if the bot has not seen the chat before."""
    chat = session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(id=chat_id, type=chat_type)
        session.add(chat)
    return chat


def chat_language(session: Session, chat_id: int) -> str | None:
    """The chat's chosen caption language (a CaptionMode value), or None if never chosen."""
    return session.scalar(select(Chat.language).where(Chat.id == chat_id))


def set_chat_language(session: Session, chat_id: int, chat_type: str, language: str) -> None:
    chat_row(session, chat_id, chat_type).language = language


def languages(session: Session, chat_id: int, user_id: int) -> tuple[str | None, str | None]:
    """The chat's /lang choice and the user's Telegram language code (either may be None)."""
    user = session.scalar(select(User.language_code).where(User.id == user_id))
    return chat_language(session, chat_id), user


def forget_user(session: Session, user_id: int) -> None:
    """Delete the user's row and their private chat's row, with its /lang choice (their jobs
    first: see jobs.forget_user). Groups keep theirs: those settings are the group's."""
    user = session.get(User, user_id)
    if user is not None:
        session.delete(user)
    private = session.get(Chat, user_id)  # a private chat's id is its user's
    if private is not None and private.type == "private":
        session.delete(private)
