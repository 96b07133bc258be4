"""Workers in other processes wake at a new job: PostgreSQL's LISTEN/NOTIFY, sent in the
transaction that accepts the photo, and only once it commits (a real server; SQLite has none)."""

import asyncio

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.storage import wakeups
from tests.helpers import add_job


async def test_a_committed_job_wakes_a_listener(
    db_engine: Engine, sessions: sessionmaker[Session], database_url: str
) -> None:
    if db_engine.dialect.name != "postgresql":
        assert not wakeups.is_postgresql(database_url)
        pytest.skip("LISTEN/NOTIFY: PostgreSQL only")
    woken = asyncio.Event()
    listener = asyncio.create_task(wakeups.listen(database_url, woken))
    try:
        await asyncio.wait_for(woken.wait(), 10)  # set once, when it starts listening
        woken.clear()
        with sessions.begin() as session:
            add_job(session, 1)
            wakeups.notify(session)
            await asyncio.sleep(0.3)
            assert not woken.is_set()  # not before the commit
        await asyncio.wait_for(woken.wait(), 5)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
