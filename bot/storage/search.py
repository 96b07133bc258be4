"""A user's captioned photos, newest first, found by words of their English or Russian captions
(for inline mode). Matching is done in Python: SQLite's LIKE folds the case of ASCII only."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Job, JobStatus, Translation


@dataclass(frozen=True)
class Found:
    job_id: int
    file_id: str
    file_kind: str
    caption: str
    caption_ru: str | None


def has_history(session: Session, user_id: int) -> bool:
    query = select(Job.id).where(Job.user_id == user_id, Job.status == JobStatus.DONE)
    return session.scalar(query.limit(1)) is not None


def _russian(session: Session, captions: set[str]) -> dict[str, str]:
    """Cached Russian translations of these captions."""
    if not captions:
        return {}
    query = select(Translation.text, Translation.translated).where(
        Translation.source == "en", Translation.target == "ru", Translation.text.in_(captions)
    )
    return {text: translated for text, translated in session.execute(query)}


def captioned(
    session: Session, user_id: int, words: Sequence[str], offset: int, limit: int
) -> tuple[list[Found], bool]:
    """One page of the user's captioned photos (each photo once, newest first) whose captions
    contain every word; and whether there are more."""
    query = (
        select(Job.id, Job.file_id, Job.file_unique_id, Job.file_kind, Job.caption, Job.caption_ru)
        .where(Job.user_id == user_id, Job.status == JobStatus.DONE, Job.caption.is_not(None))
        .order_by(Job.received_at.desc(), Job.id.desc())
    )
    rows = session.execute(query).all()
    russian = _russian(session, {row.caption for row in rows if row.caption_ru is None})
    needles = [word.casefold() for word in words if word.strip()]
    seen: set[str] = set()
    found: list[Found] = []
    for row in rows:
        if row.file_unique_id in seen:
            continue
        caption_ru = row.caption_ru or russian.get(row.caption)
        haystack = f"{row.caption} {caption_ru or ''}".casefold()
        if all(needle in haystack for needle in needles):
            seen.add(row.file_unique_id)
            found.append(Found(row.id, row.file_id, row.file_kind, row.caption, caption_ru))
    return found[offset : offset + limit], len(found) > offset + limit
