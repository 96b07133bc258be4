"""Updates already taken: a webhook update delivered to two replicas behind one address is
answered by the first to record it."""

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import SeenUpdate


def first_sight(session: Session, update_id: int) -> bool:
    """Record the update; False if some process recorded it before."""
    try:
        with session.begin_nested():
            session.add(SeenUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


def prune(session: Session, before: datetime) -> int:
    """Forget updates seen before `before` (Telegram redelivers an update for a day at most)."""
    result = session.execute(delete(SeenUpdate).where(SeenUpdate.seen_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
