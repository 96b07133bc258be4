"""The translation cache: a caption is sent to a translation service once."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import Translation


def cached(session: Session, text: str, source: str, target: str) -> str | None:
    query = select(Translation.translated).where(
        Translation.source == source, Translation.target == target, Translation.text == text
    )
    return session.scalar(query)


def store(
    session: Session, text: str, source: str, target: str, translated: str, backend: str
) -> None:
    """Cache a translation (a concurrent identical one is kept instead)."""
    row = Translation(
        text=text, source=source, target=target, translated=translated, backend=backend
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        pass


def forget_texts(session: Session, texts: Collection[str]) -> None:
    """Drop the cached translations of these texts (the captions of a user who asked the bot
    to forget them)."""
    if texts:
        session.execute(delete(Translation).where(Translation.text.in_(list(texts))))


def prune(session: Session, before: datetime) -> int:
    """Delete the translations cached before `before`. Returns how many."""
    result = session.execute(delete(Translation).where(Translation.created_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
