"""The caption queue: admission (queue size, one user's share of it, per-user rate limit) and
fair batches.

The database is the queue: a photo is accepted by writing its job row, so a crash loses nothing
accepted; an asyncio event only wakes the worker up (and on PostgreSQL, a NOTIFY the workers of
other processes). The database's part of `submit` runs in a thread, under a lock, so the checks
and the insert cannot interleave with another submit of this process. Workers claim jobs under a
lease (bot/lease.py): any number of them, in any number of processes, share one queue.

A refusal costs almost nothing: the user is told once per window (`notice_due`), and the rest
of their photos in that window are dropped without a reply, only counted (`refused`). While a
user is over the rate limit, their photos are dropped without a database query.
"""

import asyncio
import enum
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.lease import Lease
from bot.storage import albums, chats, group_settings, jobs, wakeups
from bot.storage.jobs import Step
from bot.storage.models import Job, JobStatus, utcnow

RATE_WINDOW = timedelta(minutes=1)
IDLE_POLL_S = 5.0  # a worker with nothing to do looks at the queue again this often


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # this message already has a job
    NOT_ASKED = "not_asked"  # a group photo no one asked for (no mention, no /auto, no album)
    TOO_BIG = "too_big"  # over MAX_FILE_BYTES
    QUEUE_FULL = "queue_full"
    USER_QUEUE_FULL = "user_queue_full"  # this user's photos fill their share of the queue
    RATE_LIMITED = "rate_limited"


REFUSALS = (Outcome.QUEUE_FULL, Outcome.USER_QUEUE_FULL, Outcome.RATE_LIMITED)
# a user with several photos waiting yields to the others' photos for at most this long
BACKLOG_PATIENCE = timedelta(seconds=5)
NOTICES_KEPT = 10_000  # users with a notice window open, before expired ones are forgotten


@dataclass(frozen=True)
class PhotoRequest:
    """An incoming photo, as much as the queue needs to know about it."""

    chat_id: int
    chat_type: str
    user_id: int
    language_code: str | None
    message_id: int
    file_id: str
    file_unique_id: str
    file_kind: str = "photo"  # or "document": an image sent as a file
    media_group_id: str | None = None  # the album it belongs to
    # False: a group photo no one asked for, wanted only if the group has /auto on or some photo
    # of its album was accepted before it (judged with the rest, off the event loop, in order)
    asked: bool = True
    too_big: bool = False  # over MAX_FILE_BYTES: refused (if it is wanted at all)


@dataclass(frozen=True)
class Ticket:
    """A job taken by the worker (a plain copy of its row)."""

    id: int
    chat_id: int
    user_id: int
    message_id: int
    file_id: str
    attempts: int
    caption: str | None  # set once captioned
    album: str | None  # media_group_id: answered together with the rest of its album
    received_at: datetime  # an answer is tried for until REPLY_RETRY_HOURS after this

    @classmethod
    def of(cls, job: Job) -> "Ticket":
        return cls(
            job.id,
            job.chat_id,
            job.user_id,
            job.message_id,
            job.file_id,
            job.attempts,
            job.caption if job.status in (JobStatus.CAPTIONED, JobStatus.REPLYING) else None,
            job.media_group_id,
            job.received_at,
        )


class HasUser(Protocol):
    @property
    def user_id(self) -> int: ...


U = TypeVar("U", bound=HasUser)


def fair_pick(
    candidates: Sequence[U], limit: int, last_served: Mapping[int, datetime] | None = None
) -> list[U]:
    """Up to `limit` items, taking users in turn (each user's oldest first), so that one user's
    many photos cannot hold back another's. Users never served come first, then the least
    recently served (`last_served`: when the worker last took a job of theirs); ties go in the
    order of their oldest item. So turns carry over from one batch to the next."""
    served = last_served or {}
    per_user: dict[int, list[U]] = {}
    for item in candidates:
        per_user.setdefault(item.user_id, []).append(item)
    never = datetime.min
    turns = sorted(per_user, key=lambda user_id: served.get(user_id, never))  # stable: oldest
    picked: list[U] = []
    depth = 0
    while len(picked) < limit and turns:
        for user_id in list(turns):
            items = per_user[user_id]
            if depth < len(items):
                picked.append(items[depth])
                if len(picked) == limit:
                    break
            else:
                turns.remove(user_id)
        depth += 1
    return picked


def _has_room(room: Counter[int], user_id: int, per_user: int) -> bool:
    """Count one job of the user against their room (`per_user` for users not in `room`)."""
    if user_id not in room:
        room[user_id] = per_user
    room[user_id] -= 1
    return room[user_id] >= 0


def wanted(session: Session, request: PhotoRequest) -> bool:
    """Whether a group photo no one asked for is captioned all the same: /auto is on in the
    group, or some photo of its album was accepted before it."""
    if group_settings.auto_caption(session, request.chat_id):
        return True
    return request.media_group_id is not None and albums.has_jobs(
        session, request.chat_id, request.media_group_id
    )


class CaptionQueue:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        queue_size: int,
        rate_limit_per_minute: int,
        user_queue_size: int | None = None,
    ) -> None:
        self.sessions = sessions
        self.queue_size = queue_size
        self.user_queue_size = user_queue_size or max(1, queue_size // 4)
        self.rate_limit_per_minute = rate_limit_per_minute
        self.wakeup = asyncio.Event()
        self.refused: Counter[Outcome] = Counter()  # photos refused since start, by reason
        self.notices: Counter[Outcome] = Counter()  # of them, how many were told so
        self._windows: dict[tuple[int, Outcome], datetime] = {}  # notice windows still open
        self._limited_until: dict[int, datetime] = {}  # over the rate limit until then
        self._admitting = threading.Lock()  # one admission at a time in this process
        self._in_order = asyncio.Lock()  # submits in the order they came (FIFO)

    async def submit(self, request: PhotoRequest) -> Outcome:
        """Accept the photo (write its job) or say why not. The database's part runs in a
        thread, off the event loop, one submit at a time and in the order they were called (so
        an album's photos are judged in the order they were posted)."""
        async with self._in_order:
            outcome = await asyncio.to_thread(self.admit, request)
        if outcome == Outcome.ACCEPTED:
            self.wakeup.set()
            if request.media_group_id is not None:  # look again once the album has settled
                asyncio.get_running_loop().call_later(
                    albums.SETTLE.total_seconds() + 0.05, self.wakeup.set
                )
        return outcome

    def admit(self, request: PhotoRequest) -> Outcome:
        """`submit` without the wake-up: the checks and the insert, atomic within this process."""
        with self._admitting:
            outcome = self._admit(request)
            if outcome in REFUSALS:
                self.refused[outcome] += 1
        return outcome

    def _admit(self, request: PhotoRequest) -> Outcome:
        now = utcnow()
        limited = self._limited_until.get(request.user_id, now) > now
        if limited and request.asked:
            return Outcome.RATE_LIMITED
        with self.sessions.begin() as session:
            if jobs.exists(session, request.chat_id, request.message_id):
                return Outcome.DUPLICATE
            if not request.asked and not wanted(session, request):
                return Outcome.NOT_ASKED
            if request.too_big:
                return Outcome.TOO_BIG
            if limited:
                return Outcome.RATE_LIMITED
            if jobs.pending_count(session) >= self.queue_size:
                return Outcome.QUEUE_FULL
            if jobs.pending_count_of(session, request.user_id) >= self.user_queue_size:
                return Outcome.USER_QUEUE_FULL
            window = jobs.received_times_since(session, request.user_id, now - RATE_WINDOW)
            if len(window) >= self.rate_limit_per_minute:
                # the user may send again once enough of these are a minute old
                self._limited_until[request.user_id] = (
                    window[len(window) - self.rate_limit_per_minute] + RATE_WINDOW
                )
                return Outcome.RATE_LIMITED
            chats.remember(
                session,
                chat_id=request.chat_id,
                chat_type=request.chat_type,
                user_id=request.user_id,
                language_code=request.language_code,
            )
            job = jobs.add(
                session,
                chat_id=request.chat_id,
                user_id=request.user_id,
                message_id=request.message_id,
                file_id=request.file_id,
                file_unique_id=request.file_unique_id,
                file_kind=request.file_kind,
                media_group_id=request.media_group_id,
            )
            if job is None:
                return Outcome.DUPLICATE
            wakeups.notify(session)  # workers in other processes
        return Outcome.ACCEPTED

    def notice_due(self, user_id: int, outcome: Outcome) -> datetime | None:
        """For a refused photo: when the user may send again, if they are to be told now (the
        first refusal of its kind in its window); None: drop it without a reply."""
        with self._admitting:
            return self._notice_due(user_id, outcome)

    def _notice_due(self, user_id: int, outcome: Outcome) -> datetime | None:
        now = utcnow()
        key = (user_id, outcome)
        if self._windows.get(key, now) > now:
            return None
        if outcome == Outcome.RATE_LIMITED:
            until = self._limited_until.get(user_id, now + RATE_WINDOW)
        else:
            until = now + RATE_WINDOW
        if len(self._windows) >= NOTICES_KEPT:
            self._windows = {k: v for k, v in self._windows.items() if v > now}
            self._limited_until = {k: v for k, v in self._limited_until.items() if v > now}
        self._windows[key] = until
        self.notices[outcome] += 1
        return until

    def take(
        self,
        limit: int,
        lease: Lease,
        in_hand: Mapping[int, int] | None = None,
        per_user: int | None = None,
        idle: bool = True,
    ) -> list[Ticket]:
        """Claim up to `limit` jobs to caption, fairly across users, for the lease's worker. With
        `per_user`, a user gets no more than that many, less what the worker already has of
        theirs (`in_hand`, by user id). Unless the worker is `idle`, a user with a backlog
        (several photos waiting) yields to the others: their photos are taken only once they
        have waited BACKLOG_PATIENCE. Jobs that another worker claims at the same moment are
        left to it (PostgreSQL's SKIP LOCKED)."""
        now = utcnow()
        with self.sessions.begin() as session:
            candidates = list(jobs.ready(session, now, Step.CAPTION))
            if not idle:
                waiting = Counter(job.user_id for job in candidates)
                patient = now - BACKLOG_PATIENCE
                candidates = [
                    job
                    for job in candidates
                    if waiting[job.user_id] == 1 or job.received_at <= patient
                ]
            if per_user is not None:
                room = Counter({user: per_user - n for user, n in (in_hand or {}).items()})
                candidates = [job for job in candidates if _has_room(room, job.user_id, per_user)]
            users = {job.user_id for job in candidates}
            picked = fair_pick(candidates, limit, jobs.last_started(session, users))
            order = {job.id: n for n, job in enumerate(picked)}
            claimed = jobs.claim(session, order, Step.CAPTION, lease.name, lease.until())
            claimed.sort(key=lambda job: order[job.id])
            return [Ticket.of(job) for job in claimed]

    def take_replies(self, lease: Lease, limit: int) -> list[list[Ticket]]:
        """Claim up to `limit` replies to send, oldest first: each a list of the jobs it answers
        (one photo, or every photo of an album, claimed all together)."""
        with self.sessions.begin() as session:
            candidates = jobs.ready(session, utcnow(), Step.REPLY)
        replies: list[list[Ticket]] = []
        seen_albums: set[tuple[int, str]] = set()
        for job in candidates:
            if len(replies) == limit:
                break
            if job.media_group_id is None:
                ids = [job.id]
            elif (job.chat_id, job.media_group_id) in seen_albums:
                continue
            else:
                seen_albums.add((job.chat_id, job.media_group_id))
                with self.sessions() as session:
                    album = albums.members(session, job.chat_id, job.media_group_id)
                    ids = [member.id for member in album]
            reply = self.claim_reply(lease, ids)
            if reply:
                replies.append(reply)
        return replies

    def claim_reply(self, lease: Lease, job_ids: Sequence[int]) -> list[Ticket]:
        """Claim these captioned jobs (one reply's) for the lease's worker, in their photos'
        order; those already claimed by another worker are left out."""
        with self.sessions.begin() as session:
            claimed = jobs.claim(
                session, job_ids, Step.REPLY, lease.name, lease.until(), skip_locked=False
            )
            claimed.sort(key=lambda job: job.message_id)
            return [Ticket.of(job) for job in claimed]

    def idle_timeout(self, step: Step) -> float:
        """How long a worker with nothing to take for `step` may sleep: until the next retry or
        lease comes due, IDLE_POLL_S at most."""
        with self.sessions() as session:
            due = jobs.next_due(session, step)
        if due is None:
            return IDLE_POLL_S
        return min(IDLE_POLL_S, max(0.05, (due - utcnow()).total_seconds()))

    def requeue(self, job_ids: Sequence[int]) -> None:
        """Put jobs the worker took back in the queue (their batch failed). Called in a thread:
        the caller wakes the taker (an asyncio event is set on the loop only)."""
        with self.sessions.begin() as session:
            jobs.requeue(session, job_ids)

    def release(self, lease: Lease) -> int:
        """The worker stops: the jobs it holds go back in the queue for the others now."""
        with self.sessions.begin() as session:
            return jobs.release(session, lease.name)
