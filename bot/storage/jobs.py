"""Caption jobs: one row per accepted photo, from acceptance to the reply."""

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from bot.storage import albums
from bot.storage.models import CLAIMED, PENDING, Job, JobStatus, utcnow


def add(
    session: Session,
    *,
    chat_id: int,
    user_id: int,
    message_id: int,
    file_id: str,
    file_unique_id: str,
    file_kind: str = "photo",
    media_group_id: str | None = None,
) -> Job | None:
    """Insert a queued job; None if this message already has one (it is never captioned twice)."""
    job = Job(
        chat_id=chat_id,
        user_id=user_id,
        message_id=message_id,
        file_id=file_id,
        file_unique_id=file_unique_id,
        file_kind=file_kind,
        media_group_id=media_group_id,
        status=JobStatus.QUEUED,
        received_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        return None
    return job


def get_in_chat(session: Session, job_id: int, chat_id: int) -> Job | None:
    """The job `job_id` if it belongs to chat `chat_id` (a button copied to another chat is not a
    key to this one); None too if it was forgotten."""
    job = session.get(Job, job_id)
    return job if job is not None and job.chat_id == chat_id else None


def exists(session: Session, chat_id: int, message_id: int) -> bool:
    query = select(Job.id).where(Job.chat_id == chat_id, Job.message_id == message_id)
    return session.scalar(query) is not None


def pending_count(session: Session) -> int:
    """Jobs accepted and not yet answered."""
    return session.scalar(select(func.count()).where(Job.status.in_(PENDING))) or 0


def pending_count_of(session: Session, user_id: int) -> int:
    """This user's jobs accepted and not yet answered."""
    query = select(func.count()).where(Job.user_id == user_id, Job.status.in_(PENDING))
    return session.scalar(query) or 0


def received_times_since(session: Session, user_id: int, since: datetime) -> list[datetime]:
    """When this user's photos since `since` arrived, oldest first."""
    query = (
        select(Job.received_at)
        .where(Job.user_id == user_id, Job.received_at >= since)
        .order_by(Job.received_at)
    )
    return list(session.scalars(query))


class Step(enum.StrEnum):
    """What a worker claims a job for."""

    CAPTION = "caption"  # queued -> running
    REPLY = "reply"  # captioned -> replying


# per step: the status a job waits in, and the status of its claim
WAITING = {Step.CAPTION: JobStatus.QUEUED, Step.REPLY: JobStatus.CAPTIONED}
CLAIM = {Step.CAPTION: JobStatus.RUNNING, Step.REPLY: JobStatus.REPLYING}


def _claimable(step: Step, now: datetime) -> ColumnElement[bool]:
    """Waiting for this step and due (not delayed for a retry), or claimed by a worker whose
    lease has run out (it died, or lost the database)."""
    return or_(
        and_(
            Job.status == WAITING[step],
            or_(Job.retry_at.is_(None), Job.retry_at <= now),
        ),
        and_(Job.status == CLAIM[step], Job.lease_until < now),
    )


def ready(session: Session, now: datetime, step: Step = Step.CAPTION) -> Sequence[Job]:
    """Jobs a worker may claim now for `step` (not waiting for a retry, nor for the rest of their
    album), oldest first."""
    query = (
        select(Job)
        .options(
            load_only(
                Job.id,
                Job.chat_id,
                Job.user_id,
                Job.message_id,
                Job.file_id,
                Job.status,
                Job.attempts,
                Job.caption,
                Job.started_at,
                Job.media_group_id,
                Job.received_at,
            )
        )
        .where(_claimable(step, now))
        .order_by(Job.id)
    )
    candidates = session.scalars(query).all()
    held = albums.held_back(session, candidates, now)
    return [job for job in candidates if job.id not in held] if held else candidates


def next_due(session: Session, step: Step) -> datetime | None:
    """When the earliest job delayed for a retry, or claimed under a lease, becomes claimable
    for `step`."""
    retry = session.scalar(
        select(func.min(Job.retry_at)).where(Job.status == WAITING[step], Job.retry_at.is_not(None))
    )
    lease = session.scalar(select(func.min(Job.lease_until)).where(Job.status == CLAIM[step]))
    return min((t for t in (retry, lease) if t is not None), default=None)


def last_started(session: Session, user_ids: Collection[int]) -> dict[int, datetime]:
    """When a worker last took a job of each of these users (users never served are left
    out)."""
    if not user_ids:
        return {}
    query = (
        select(Job.user_id, func.max(Job.started_at))
        .where(Job.user_id.in_(user_ids), Job.started_at.is_not(None))
        .group_by(Job.user_id)
    )
    rows = session.execute(query).all()
    return {user_id: started for user_id, started in rows if started is not None}


def claim(
    session: Session,
    job_ids: Collection[int],
    step: Step,
    worker: str,
    lease_until: datetime,
    *,
    skip_locked: bool = True,
) -> list[Job]:
    """Claim those of these jobs that are still claimable for `step`, for `worker` until
    `lease_until`; returns them, oldest first. On PostgreSQL the rows are locked first (`FOR
    UPDATE`): with `skip_locked`, rows that another worker is claiming at this moment are left to
    it; without, this waits for it and then finds them claimed (an album's photos are claimed all
    or none). The UPDATE checks again that each job is claimable, which on SQLite (no row locks)
    is what makes a claim atomic: of two threads claiming one job, one updates it."""
    if not job_ids:
        return []
    now = utcnow()
    lock = (
        select(Job.id)
        .where(Job.id.in_(job_ids), _claimable(step, now))
        .with_for_update(skip_locked=skip_locked)
    )
    candidates = list(session.scalars(lock))
    if not candidates:
        return []
    claimed = session.scalars(
        update(Job)
        .where(Job.id.in_(candidates), _claimable(step, now))
        .values(
            attempts=Job.attempts + 1,
            retry_at=None,
            worker=worker,
            lease_until=lease_until,
            started_at=case((Job.status == JobStatus.QUEUED, now), else_=Job.started_at),
            status=CLAIM[step],
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).all()
    query = select(Job).where(Job.id.in_(claimed)).order_by(Job.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def renew(session: Session, worker: str, lease_until: datetime) -> int:
    """The worker is alive: its claims hold until `lease_until`. Returns how many it holds."""
    result = session.execute(
        update(Job)
        .where(Job.worker == worker, Job.status.in_(CLAIMED))
        .values(lease_until=lease_until)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _unclaim(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Claims matching `conditions` go back to the step they were taken from."""
    count = 0
    for step in Step:
        result = session.execute(
            update(Job)
            .where(Job.status == CLAIM[step], *conditions)
            .values(status=WAITING[step], lease_until=None)
        )
        count += int(result.rowcount)  # type: ignore[attr-defined]
    return count


def release(session: Session, worker: str) -> int:
    """The worker is stopping: what it holds goes back to the queue at once."""
    return _unclaim(session, Job.worker == worker)


def requeue(session: Session, job_ids: Collection[int]) -> None:
    """These jobs, taken by the worker, go back in the queue (unless answered meanwhile)."""
    _unclaim(session, Job.id.in_(job_ids))


def save_caption(
    session: Session,
    job_id: int,
    worker: str,
    *,
    caption: str,
    score: float,
    words: list[str],
    alternatives: list[tuple[str, float]],
    attention: np.ndarray,
    tags: list[tuple[str, float]] | None = None,
    doubt: str | None = None,
    kind: str | None = None,
) -> bool:
    """Store the model's answer; the job waits for its reply. False if the job is gone (its user
    asked to forget) or no longer this worker's (its lease ran out and another took it over)."""
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.RUNNING or job.worker != worker:
        return False
    job.status = JobStatus.CAPTIONED
    job.lease_until = None
    job.caption = caption
    job.score = score
    job.words = list(words)
    job.alternatives = [[text, value] for text, value in alternatives]
    job.attention = np.ascontiguousarray(attention, dtype=np.float32).tobytes()
    job.tags = [[label, p] for label, p in tags or []]
    job.doubt = doubt
    job.caption_kind = None if kind == "sentence" else kind
    return True


def attention_of(job: Job) -> np.ndarray | None:
    """The stored attention maps, (len(words), 7, 7), or None if not captioned."""
    if job.attention is None or job.words is None:
        return None
    return np.frombuffer(job.attention, dtype=np.float32).reshape(len(job.words), 7, 7)


def save_translation(session: Session, job_id: int, caption_ru: str) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(caption_ru=caption_ru))


def note_translation_failure(session: Session, job_id: int) -> None:
    """The reply went out in English only: no translation service answered."""
    session.execute(update(Job).where(Job.id == job_id).values(translation_failed=True))


def finish(session: Session, job_id: int, worker: str, reply_message_id: int) -> bool:
    """The reply was sent: the job is done. False if the job is gone (its user asked the bot to
    forget while the reply was on its way) or no longer this worker's claim (its lease ran out and
    another took it over, or it was answered meanwhile)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.REPLYING)
        .values(
            status=JobStatus.DONE,
            reply_message_id=reply_message_id,
            finished_at=utcnow(),
            lease_until=None,
        )
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def fail(session: Session, job_id: int, worker: str, error: str) -> bool:
    """The job cannot be captioned (its user is told why, if Telegram lets the bot). False if it
    is no longer this worker's claim."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status.in_(CLAIMED))
        .values(status=JobStatus.FAILED, error=error, finished_at=utcnow(), lease_until=None)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def is_gone(session: Session, job_id: int) -> bool:
    """The job was deleted (its user asked the bot to forget)."""
    return session.get(Job, job_id) is None


def set_reply(session: Session, job_id: int, reply_message_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(reply_message_id=reply_message_id))


def retry_later(session: Session, job_id: int, worker: str, at: datetime, error: str) -> None:
    """Downloading or replying failed for a passing reason: try again at `at`
    (from the start if it was not captioned yet)."""
    job = session.get(Job, job_id)
    # not if it was answered meanwhile, nor if another worker took it over
    if job is not None and job.status in CLAIMED and job.worker == worker:
        job.status = JobStatus.CAPTIONED if job.caption is not None else JobStatus.QUEUED
        job.retry_at = at
        job.error = error
        job.lease_until = None


def history(
    session: Session, *, chat_id: int, user_id: int, offset: int, limit: int
) -> Sequence[Job]:
    """This user's captioned photos in this chat, newest first."""
    query = (
        select(Job)
        .where(Job.chat_id == chat_id, Job.user_id == user_id, Job.status == JobStatus.DONE)
        .order_by(Job.received_at.desc(), Job.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return session.scalars(query).all()


def history_count(session: Session, *, chat_id: int, user_id: int) -> int:
    query = select(func.count()).where(
        Job.chat_id == chat_id, Job.user_id == user_id, Job.status == JobStatus.DONE
    )
    return session.scalar(query) or 0


def captions_of(session: Session, user_id: int) -> list[str]:
    """Every caption the bot made for this user's photos."""
    query = select(Job.caption).where(Job.user_id == user_id, Job.caption.is_not(None))
    return [caption for caption in session.scalars(query) if caption is not None]


def forget_user(session: Session, user_id: int) -> int:
    """Delete every job of this user; returns how many."""
    result = session.execute(delete(Job).where(Job.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Grounded:
    """What the reply says beside a job's caption."""

    labels: list[str]  # what the classifier recognised
    doubt: str | None  # why the caption is a guess, or None
    hedged: bool  # the caption is a sentence of those labels ("Probably a stove.")


def pending_grounding(session: Session, job_ids: list[int]) -> dict[int, Grounded]:
    """For each of these jobs still waiting for its reply: its grounding."""
    rows = session.execute(
        select(Job.id, Job.tags, Job.doubt, Job.caption_kind).where(
            Job.id.in_(job_ids), Job.status.in_(PENDING)
        )
    )
    return {
        job_id: Grounded([label for label, _ in tags or []], doubt, kind == "objects")
        for job_id, tags, doubt, kind in rows
    }


def prune(session: Session, before: datetime) -> int:
    """Delete the jobs answered (or given up) before `before`, with their captions and attention
    maps; a job still waiting for its reply is kept however old. Returns how many."""
    ended = func.coalesce(Job.finished_at, Job.received_at)
    query = delete(Job).where(Job.status.in_([JobStatus.DONE, JobStatus.FAILED]), ended < before)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]
