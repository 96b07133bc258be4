"""A worker's claims on jobs: its name, how long a claim holds, and the heartbeat that renews them.

A worker claims a job (to caption it, or to send its reply) until `now + LEASE_S`, and renews
every claim it holds every third of that while it runs. A worker that dies (killed, its machine
gone, cut off from the database) stops renewing: once its leases run out, its jobs are claimable
again by any other worker. A worker that stops cleanly hands its jobs back at once.
"""

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.background import LongRunning
from bot.storage import jobs
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


def default_name() -> str:
    """A name no other worker has: this machine, this process, and a few random letters."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease(LongRunning):
    task_name = "lease-heartbeat"

    def __init__(
        self, sessions: sessionmaker[Session], seconds: float, name: str | None = None
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.seconds = seconds
        self.name = name or default_name()

    def until(self) -> datetime:
        """When a claim made or renewed now runs out."""
        return utcnow() + timedelta(seconds=self.seconds)

    def renew(self) -> int:
        """Renew every claim of this worker now; how many it holds."""
        with self.sessions.begin() as session:
            return jobs.renew(session, self.name, self.until())

    async def run(self) -> None:
        """The heartbeat."""
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                await asyncio.to_thread(self.renew)
            except Exception:
                log.exception("could not renew the leases of worker %s", self.name)
