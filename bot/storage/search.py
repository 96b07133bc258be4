"""A user's captioned photos, newest first, found by words of their English or Russian captions
(for inline mode). The database does the search, a page at a time: each word must be in the
caption or its Russian (the reply's, or the translation cache's), compared case-folded (SQLite
gets Python's `str.casefold` as `casefold()`, bot/storage/database.py, for words beyond ASCII,
since its own lower() folds ASCII only; PostgreSQL's lower() folds every script).
`python -m tests.inline_search_speed` times it on 10,000 captions of one user
(docs/reports/inline_search_speed.md)."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
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


def folded(
    session: Session, text: ColumnElement[str | None], needle: str
) -> ColumnElement[str | None]:
    """`text` case-folded in the database, as far as it matters to find `needle` in it: SQLite's
    own lower() for a needle of ASCII letters (it folds those, and quickly), Python's casefold
    for any other (a function call per row, several times slower)."""
    if session.get_bind().dialect.name == "sqlite" and not needle.isascii():
        return func.casefold(text)
    return func.lower(text)


def captioned(
    session: Session, user_id: int, words: Sequence[str], offset: int, limit: int
) -> tuple[list[Found], bool]:
    """One page of the user's captioned photos (each photo once, its newest matching copy;
    newest first) whose captions contain every word; and whether there are more. The database
    filters and reads newest first, only as far as the page needs (the same photo sent twice
    is rare: a second read goes further only if copies left the page short)."""
    russian = func.coalesce(Job.caption_ru, Translation.translated)
    haystack = Job.caption + " " + func.coalesce(russian, "")
    needles = [word.casefold() for word in words if word.strip()]
    query = (
        select(
            Job.id,
            Job.file_id,
            Job.file_unique_id,
            Job.file_kind,
            Job.caption,
            russian.label("caption_ru"),
        )
        .outerjoin(
            Translation,
            and_(
                Translation.source == "en",
                Translation.target == "ru",
                Translation.text == Job.caption,
            ),
        )
        .where(
            Job.user_id == user_id,
            Job.status == JobStatus.DONE,
            Job.caption.is_not(None),
            *(
                folded(session, haystack, needle).contains(needle, autoescape=True)
                for needle in needles
            ),
        )
        .order_by(Job.received_at.desc(), Job.id.desc())
    )
    wanted = offset + limit + 1  # one more than the page: whether there are more
    read = wanted
    while True:
        rows = session.execute(query.limit(read)).all()
        seen: set[str] = set()
        found: list[Found] = []
        for row in rows:
            if row.file_unique_id not in seen:
                seen.add(row.file_unique_id)
                found.append(Found(row.id, row.file_id, row.file_kind, row.caption, row.caption_ru))
        if len(found) >= wanted or len(rows) < read:  # enough, or nothing more to read
            return found[offset : offset + limit], len(found) > offset + limit
        read *= 2
