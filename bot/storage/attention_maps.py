"""Which captions already have their attention map in the chat: each is sent once, however many
times (or by however many people) its button is pressed."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.storage.models import Job

SENDING = 0  # attention_message_id while the map is being made and sent


def claim(session: Session, job_id: int) -> bool:
    """Take the job's map for sending; False if it is sent or on its way already."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attention_message_id.is_(None))
        .values(attention_message_id=SENDING)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def sent(session: Session, job_id: int, message_id: int) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(attention_message_id=message_id))


def release(session: Session, job_id: int) -> None:
    """Sending failed: the button may be pressed again."""
    session.execute(update(Job).where(Job.id == job_id).values(attention_message_id=None))
