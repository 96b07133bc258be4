"""Workers' claims on jobs (SQLite and a real PostgreSQL server): a claim holds until its lease
runs out, the heartbeat renews only its own worker's claims, a stopping worker hands its jobs
back, and on PostgreSQL two workers claiming at once never get the same job."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from bot.lease import Lease
from bot.queue import CaptionQueue
from bot.storage import jobs
from bot.storage.jobs import Step
from bot.storage.models import Job, JobStatus, utcnow
from tests.helpers import add_job


def status_of(sessions: sessionmaker[Session], job_id: int) -> tuple[str, str | None]:
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.status, job.worker


def expire_leases(sessions: sessionmaker[Session]) -> None:
    """As if every worker holding a claim had stopped renewing it a while ago."""
    with sessions.begin() as session:
        session.execute(update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))


def test_an_expired_lease_is_taken_over(sessions: sessionmaker[Session]) -> None:
    queue = CaptionQueue(sessions, queue_size=10, rate_limit_per_minute=10)
    dead, alive = Lease(sessions, 30.0, "dead"), Lease(sessions, 30.0, "alive")
    with sessions.begin() as session:
        job = add_job(session, 1)
    assert [t.id for t in queue.take(8, dead)] == [job.id]
    assert queue.take(8, alive) == []  # the claim holds while its lease runs
    expire_leases(sessions)
    [ticket] = queue.take(8, alive)
    assert (ticket.id, ticket.attempts) == (job.id, 2)
    assert status_of(sessions, job.id) == (JobStatus.RUNNING, "alive")
    with sessions.begin() as session:  # the worker thought dead comes back: too late
        assert not jobs.save_caption(
            session,
            job.id,
            "dead",
            caption="x",
            score=0.0,
            words=["x"],
            alternatives=[],
            attention=np.zeros((1, 7, 7)),
        )


def test_a_reply_left_by_a_dead_worker_is_sent_by_another(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=10, rate_limit_per_minute=10)
    dead, alive = Lease(sessions, 30.0, "dead"), Lease(sessions, 30.0, "alive")
    with sessions.begin() as session:
        job = add_job(session, 1)
        job.status, job.caption = JobStatus.CAPTIONED, "a dog"
    assert [[t.id for t in reply] for reply in queue.take_replies(dead, 8)] == [[job.id]]
    assert queue.take_replies(alive, 8) == []
    expire_leases(sessions)
    [[ticket]] = queue.take_replies(alive, 8)
    assert (ticket.id, ticket.caption) == (job.id, "a dog")
    assert status_of(sessions, job.id) == (JobStatus.REPLYING, "alive")


def test_heartbeat_renews_its_own_claims_and_release_hands_them_back(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=10, rate_limit_per_minute=10)
    mine, theirs = Lease(sessions, 30.0, "mine"), Lease(sessions, 30.0, "theirs")
    with sessions.begin() as session:
        first, second = add_job(session, 1, user_id=1), add_job(session, 2, user_id=2)
        captioned = add_job(session, 3, user_id=3)
        captioned.status, captioned.caption = JobStatus.CAPTIONED, "a cat"
    queue.take(1, mine)
    queue.take(1, theirs)
    queue.take_replies(mine, 8)
    expire_leases(sessions)
    assert mine.renew() == 2
    third = Lease(sessions, 30.0, "third")
    # mine are renewed; theirs ran out and goes to whoever looks next
    assert [ticket.id for ticket in queue.take(8, third)] == [second.id]
    assert queue.release(mine) == 2
    assert status_of(sessions, first.id) == (JobStatus.QUEUED, "mine")
    assert status_of(sessions, captioned.id) == (JobStatus.CAPTIONED, "mine")
    assert status_of(sessions, second.id) == (JobStatus.RUNNING, "third")


def test_an_album_reply_is_claimed_whole_once_all_is_captioned(
    sessions: sessionmaker[Session],
) -> None:
    queue = CaptionQueue(sessions, queue_size=10, rate_limit_per_minute=10)
    lease = Lease(sessions, 30.0, "w")
    with sessions.begin() as session:
        one, two = add_job(session, 1, album="A"), add_job(session, 2, album="A")
        one.status, one.caption = JobStatus.CAPTIONED, "a dog"
    assert queue.take_replies(lease, 8) == []  # two is not captioned yet
    with sessions.begin() as session:
        session.execute(
            update(Job).where(Job.id == two.id).values(status=JobStatus.CAPTIONED, caption="x")
        )
    [reply] = queue.take_replies(lease, 8)
    assert [ticket.id for ticket in reply] == [one.id, two.id]


def test_concurrent_claims_on_postgresql_skip_locked_rows(
    db_engine: Engine, sessions: sessionmaker[Session]
) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    with sessions.begin() as session:
        ids = [add_job(session, n, user_id=n).id for n in range(1, 5)]
    until = utcnow() + timedelta(seconds=30)
    with sessions.begin() as first:
        claimed = jobs.claim(first, ids[:2], Step.CAPTION, "A", until)
        assert [job.id for job in claimed] == ids[:2]
        # A's transaction is still open: B skips the rows A holds instead of waiting
        with sessions.begin() as second:
            others = jobs.claim(second, ids, Step.CAPTION, "B", until)
            assert [job.id for job in others] == ids[2:]
    with sessions.begin() as third:  # committed: nothing is claimable twice
        assert jobs.claim(third, ids, Step.CAPTION, "C", until) == []


def test_threads_claiming_at_once_never_share_a_job(sessions: sessionmaker[Session]) -> None:
    """Eight workers' threads claim the same 40 jobs at the same instant, again and again: each
    job goes to one of them (SQLite has no row locks: the claim's UPDATE decides)."""
    with sessions.begin() as session:
        ids = [add_job(session, n, user_id=n).id for n in range(1, 41)]
    until = utcnow() + timedelta(seconds=30)
    start = threading.Barrier(8)

    def worker(name: str) -> list[int]:
        start.wait()
        mine: list[int] = []
        for _ in range(5):
            with sessions.begin() as session:
                mine += [job.id for job in jobs.claim(session, ids, Step.CAPTION, name, until)]
        return mine

    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(worker, [f"w{n}" for n in range(8)]))
    everything = [job_id for mine in claimed for job_id in mine]
    assert sorted(everything) == ids  # every job once, none twice
