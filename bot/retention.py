"""How long the bot keeps what it was sent: answered jobs (captions, attention maps) and cached
translations older than HISTORY_DAYS are deleted, checked every HISTORY_PRUNE_EVERY_S."""

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.background import LongRunning
from bot.storage import jobs, seen_updates, translations
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

SEEN_UPDATES_KEPT = timedelta(days=1)  # Telegram gives up redelivering an update sooner


def prune_history(sessions: sessionmaker[Session], days: float) -> tuple[int, int]:
    """Delete what is older than `days`; returns (jobs, translations) deleted."""
    now = utcnow()
    before = now - timedelta(days=days)
    with sessions.begin() as session:
        seen_updates.prune(session, now - SEEN_UPDATES_KEPT)
        return jobs.prune(session, before), translations.prune(session, before)


class HistoryPruner(LongRunning):
    """Prunes at start and then every `every_s` seconds, in a thread, until stopped."""

    task_name = "history-pruner"

    def __init__(self, sessions: sessionmaker[Session], days: float, every_s: float) -> None:
        super().__init__()
        self.sessions, self.days, self.every_s = sessions, days, every_s

    async def run(self) -> None:
        while True:
            try:
                deleted = await asyncio.to_thread(prune_history, self.sessions, self.days)
            except Exception:
                log.exception("could not prune the history")  # tried again next time
            else:
                if any(deleted):
                    log.info(
                        "history: %d jobs and %d translations older than %g days deleted",
                        *deleted,
                        self.days,
                    )
            await asyncio.sleep(self.every_s)
