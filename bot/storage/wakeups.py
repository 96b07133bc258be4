"""Telling workers in other processes that a job is waiting: PostgreSQL's LISTEN/NOTIFY.

The process that accepts a photo notifies in the same transaction (PostgreSQL delivers it at
commit); each worker listens on a connection of its own and wakes up. A notification lost (the
connection dropped, SQLite) costs at most the worker's polling interval.
"""

import asyncio
import logging

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "captionbot_jobs"
RECONNECT_S = 5.0


def is_postgresql(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


def notify(session: Session) -> None:
    """Wake the listening workers once this session's transaction commits (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, "")))


async def listen(database_url: str, wakeup: asyncio.Event) -> None:
    """Set `wakeup` at every notification, until cancelled; reconnects after a failure."""
    import psycopg

    url = make_url(database_url).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                log.info("listening for new jobs (LISTEN %s)", CHANNEL)
                wakeup.set()  # whatever came while not listening
                async for _ in conn.notifies():
                    wakeup.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("LISTEN %s: %s; polling until reconnected", CHANNEL, exc)
        await asyncio.sleep(RECONNECT_S)
