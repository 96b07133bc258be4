"""Figures for /stats: the queue, jobs per status, throughput, latency, translation failures."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.storage.models import PENDING, Job, JobStatus


@dataclass(frozen=True)
class Figures:
    queue_depth: int  # accepted, not yet answered
    per_status: dict[str, int]
    captioned_hour: int
    captioned_day: int
    latency_median_s: float | None  # from the update to the reply, photos answered in a day
    latency_p95_s: float | None
    translation_failures_day: int
    translation_failures_total: int
    retrying: int  # pending jobs waiting to be tried again after a passing Telegram failure
    retried_day: int  # photos answered in a day that needed more than one try
    last_error: str | None  # the latest passing failure of a job answered or waiting


def _count(session: Session, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count(Job.id)).where(*conditions)) or 0


def collect(session: Session, now: datetime) -> Figures:
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    per_status = {
        str(status): int(count)
        for status, count in session.execute(
            select(Job.status, func.count(Job.id)).group_by(Job.status)
        )
    }
    done = Job.status == JobStatus.DONE
    spans = session.execute(
        select(Job.received_at, Job.finished_at).where(done, Job.finished_at >= day_ago)
    ).all()
    latencies = np.array(
        [
            (finished - received).total_seconds()
            for received, finished in spans
            if finished is not None
        ]
    )
    return Figures(
        queue_depth=sum(per_status.get(str(status), 0) for status in PENDING),
        per_status=per_status,
        captioned_hour=_count(session, done, Job.finished_at >= hour_ago),
        captioned_day=len(spans),
        latency_median_s=float(np.percentile(latencies, 50)) if len(latencies) else None,
        latency_p95_s=float(np.percentile(latencies, 95)) if len(latencies) else None,
        translation_failures_day=_count(
            session, Job.translation_failed.is_(True), Job.finished_at >= day_ago
        ),
        translation_failures_total=_count(session, Job.translation_failed.is_(True)),
        retrying=_count(session, Job.status.in_(PENDING), Job.retry_at.is_not(None)),
        retried_day=_count(
            session, done, Job.finished_at >= day_ago, Job.attempts > 1, Job.error.is_not(None)
        ),
        last_error=session.scalar(
            select(Job.error)
            .where(Job.status != JobStatus.FAILED, Job.error.is_not(None))
            .order_by(Job.id.desc())
            .limit(1)
        ),
    )
