"""Prometheus metrics: job gauges read from the database, counters, served over real HTTP."""

import urllib.request

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.metrics import Metrics
from bot.storage.models import Job, JobStatus
from tests.helpers import add_job


def test_metrics_show_the_queue_and_what_the_process_did(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        ids = [add_job(session, user_id=1, message_id=m).id for m in (1, 2, 3)]
        session.execute(update(Job).where(Job.id == ids[0]).values(status=JobStatus.DONE))
    metrics = Metrics(sessions)
    metrics.photos_captioned.inc()
    metrics.reply_latency.observe(0.3)
    metrics.telegram_errors.labels(outcome="retried").inc(2)
    metrics.translation_failures.inc()
    port = metrics.serve(0, "127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
    finally:
        metrics.stop()
    assert 'captionbot_jobs{status="queued"} 2.0' in body
    assert 'captionbot_jobs{status="done"} 1.0' in body
    assert "captionbot_queue_depth 2.0" in body
    assert "captionbot_photos_captioned_total 1.0" in body
    assert 'captionbot_update_to_reply_seconds_bucket{le="0.5"} 1.0' in body
    assert 'captionbot_telegram_errors_total{outcome="retried"} 2.0' in body
    assert "captionbot_translation_failures_total 1.0" in body
