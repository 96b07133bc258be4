"""The translation cache: a caption is sent to a translation service once."""

from sqlalchemy import select
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
