"""History is kept HISTORY_DAYS: older answered jobs and translations go, waiting ones stay."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.retention import HistoryPruner, prune_history
from bot.storage import jobs, translations
from bot.storage.models import Job, JobStatus, Translation, utcnow
from tests.helpers import add_job


def age(sessions: sessionmaker[Session], job_id: int, days: float, status: JobStatus) -> None:
    then = utcnow() - timedelta(days=days)
    with sessions.begin() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=status, received_at=then, finished_at=then)
        )


def test_old_answered_jobs_and_translations_are_pruned(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        old_done, old_failed, old_waiting, recent = (
            add_job(session, user_id=1, message_id=m).id for m in (1, 2, 3, 4)
        )
        translations.store(session, "a dog", "en", "ru", "собака", "google")
    age(sessions, old_done, 40, JobStatus.DONE)
    age(sessions, old_failed, 40, JobStatus.FAILED)
    age(sessions, old_waiting, 40, JobStatus.CAPTIONED)  # its reply is not sent yet
    age(sessions, recent, 10, JobStatus.DONE)
    with sessions.begin() as session:
        session.execute(update(Translation).values(created_at=utcnow() - timedelta(days=40)))
        translations.store(session, "a cat", "en", "ru", "кошка", "google")

    assert prune_history(sessions, days=30) == (2, 1)
    with sessions() as session:
        left = set(session.scalars(select(Job.id)))
        assert left == {old_waiting, recent}
        assert translations.cached(session, "a cat", "en", "ru") == "кошка"
        assert translations.cached(session, "a dog", "en", "ru") is None
        assert jobs.prune(session, utcnow() - timedelta(days=30)) == 0  # nothing more


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait until `condition` holds (checked every 20 ms); fail only if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        assert loop.time() < deadline, f"waited {timeout:.0f} s for {what}"
        await asyncio.sleep(0.02)


def job_ids(sessions: sessionmaker[Session]) -> set[int]:
    with sessions() as session:
        return set(session.scalars(select(Job.id)))


async def test_the_pruner_prunes_at_start_and_on_its_schedule(
    sessions: sessionmaker[Session],
) -> None:
    pruner = HistoryPruner(sessions, days=30, every_s=0.05)
    with sessions.begin() as session:
        first, kept = add_job(session, user_id=1, message_id=1).id, add_job(session, 3).id
    age(sessions, first, 40, JobStatus.DONE)
    pruner.start()
    try:
        await eventually(lambda: first not in job_ids(sessions), "the pruning at start")
        with sessions.begin() as session:
            second = add_job(session, user_id=1, message_id=2).id
        age(sessions, second, 40, JobStatus.DONE)
        await eventually(lambda: second not in job_ids(sessions), "a scheduled pruning")
    finally:
        await pruner.stop()
    assert job_ids(sessions) == {kept}  # a recent one, never pruned
