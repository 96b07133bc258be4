"""Albums (Telegram media groups): their photos arrive as separate messages and are answered
with one reply, so the worker waits until an album has stopped growing and is fully captioned."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Job, JobStatus

# Telegram delivers an album's messages within a moment of each other; an album is taken as
# complete once none has arrived for this long.
SETTLE = timedelta(seconds=1.5)
UNCAPTIONED = (JobStatus.QUEUED, JobStatus.RUNNING)


def members(session: Session, chat_id: int, media_group_id: str) -> Sequence[Job]:
    """The album's jobs, in the order its photos were posted."""
    query = (
        select(Job)
        .where(Job.chat_id == chat_id, Job.media_group_id == media_group_id)
        .order_by(Job.message_id)
    )
    return session.scalars(query).all()


def held_back(session: Session, candidates: Sequence[Job], now: datetime) -> set[int]:
    """Ids among `candidates` that must wait for the rest of their album: queued ones until the
    album has settled, captioned ones until every photo of it is captioned (or failed)."""
    held: set[int] = set()
    albums = {(job.chat_id, job.media_group_id) for job in candidates if job.media_group_id}
    for chat_id, media_group_id in albums:
        assert media_group_id is not None
        album = members(session, chat_id, media_group_id)
        settling = max(job.received_at for job in album) > now - SETTLE
        uncaptioned = any(job.status in UNCAPTIONED for job in album)
        for job in album:
            if (job.status == JobStatus.QUEUED and settling) or (
                job.status == JobStatus.CAPTIONED and uncaptioned
            ):
                held.add(job.id)
    return held


def has_jobs(session: Session, chat_id: int, media_group_id: str) -> bool:
    """Whether some photo of this album was already accepted (so the rest of it belongs too)."""
    query = select(Job.id).where(Job.chat_id == chat_id, Job.media_group_id == media_group_id)
    return session.scalar(query.limit(1)) is not None


def reply_position(session: Session, job: Job) -> int | None:
    """Which photo of its reply the job is (from 1) when one reply captioned several; else None."""
    if job.reply_message_id is None:
        return None
    query = (
        select(Job.id)
        .where(Job.chat_id == job.chat_id, Job.reply_message_id == job.reply_message_id)
        .order_by(Job.message_id)
    )
    ids = list(session.scalars(query))
    return ids.index(job.id) + 1 if len(ids) > 1 and job.id in ids else None
