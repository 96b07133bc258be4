"""SQLAlchemy models: chats, users, caption jobs and the translation cache.

Times are naive UTC (`utcnow()`), the same on SQLite and PostgreSQL.
"""

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, as naive UTC (what every DateTime column holds)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class JobStatus(enum.StrEnum):
    """Where a job is: queued -> running -> captioned -> replying -> done; failed ends it too.

    `running` and `replying` are claims: a worker holds the job (`worker`) until `lease_until`,
    renewing it while it works; once the lease runs out, any worker may take the job over."""

    QUEUED = "queued"  # accepted, waiting for a worker to caption it
    RUNNING = "running"  # claimed for captioning: downloading and captioning
    CAPTIONED = "captioned"  # caption stored, waiting for a worker to send the reply
    REPLYING = "replying"  # claimed for replying: translating and sending
    DONE = "done"  # reply sent
    FAILED = "failed"  # answered with an apology (bad file), or could not be answered


PENDING = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.CAPTIONED, JobStatus.REPLYING)
CLAIMED = (JobStatus.RUNNING, JobStatus.REPLYING)


class CaptionMode(enum.StrEnum):
    """Which language(s) a chat gets its captions in."""

    EN = "en"
    RU = "ru"
    BOTH = "both"


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))  # a CaptionMode; None: from the user
    auto_caption: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    """One photo to caption: a Telegram message, its file, and what became of it."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id", name="uq_jobs_chat_message"),
        Index("ix_jobs_status_id", "status", "id"),
        Index("ix_jobs_user_received", "user_id", "received_at"),
        Index("ix_jobs_chat_album", "chat_id", "media_group_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    message_id: Mapped[int] = mapped_column(BigInteger)  # the photo's message, replied to
    file_id: Mapped[str] = mapped_column(String(256))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    file_kind: Mapped[str] = mapped_column(String(16), default="photo", server_default="photo")
    media_group_id: Mapped[str | None] = mapped_column(String(64))  # an album, answered as one
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime)
    worker: Mapped[str | None] = mapped_column(String(64))  # who claimed it last
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)  # the claim holds till then

    caption: Mapped[str | None] = mapped_column(Text)
    caption_ru: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    words: Mapped[list[Any] | None] = mapped_column(JSON)
    alternatives: Mapped[list[Any] | None] = mapped_column(JSON)  # [[caption, score], ...]
    attention: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 (len(words), 7, 7)
    tags: Mapped[list[Any] | None] = mapped_column(JSON)  # [[ImageNet label, probability], ...]
    doubt: Mapped[str | None] = mapped_column(String(16))  # why the caption is a guess, if it is
    # "objects": a hedged sentence of the tags' labels ("Probably a stove."); None: the decoder's
    caption_kind: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    reply_message_id: Mapped[int | None] = mapped_column(BigInteger)
    attention_message_id: Mapped[int | None] = mapped_column(BigInteger)  # 0: being sent
    translation_failed: Mapped[bool] = mapped_column(default=False, server_default=false())

    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class SeenUpdate(Base):
    """A Telegram update some process took (webhook replicas behind one address each get it)."""

    __tablename__ = "seen_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Translation(Base):
    """A cached translation of one text, whichever backend made it."""

    __tablename__ = "translations"
    __table_args__ = (UniqueConstraint("source", "target", "text", name="uq_translations_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    translated: Mapped[str] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
