"""Prometheus metrics of one process, served on METRICS_PORT (prometheus-client).

Each process (the front, every worker) serves its own: its counters count what it did, and the
job gauges are read from the database at each scrape, so any one process shows the whole queue.
"""

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import PENDING, Job, JobStatus

log = logging.getLogger(__name__)
# seconds from a photo's arrival to its reply: a fast reply is under a second, a retried one hours
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400)
# seconds the event loop ran late (bot/loop_lag.py)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class JobGauges(Collector):
    """Jobs by status, and the queue's depth (jobs waiting for their reply), from the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
            counts = {str(status): int(count) for status, count in rows}
        by_status = GaugeMetricFamily("captionbot_jobs", "Jobs by status", labels=["status"])
        for status in JobStatus:
            by_status.add_metric([status.value], counts.get(status.value, 0))
        yield by_status
        depth = sum(counts.get(status.value, 0) for status in PENDING)
        yield GaugeMetricFamily(
            "captionbot_queue_depth", "Photos waiting for their reply", value=depth
        )


class Metrics:
    """This process's metrics, in a registry of its own."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self._server: Any = None  # the HTTP server, while serving
        self.registry.register(JobGauges(sessions))
        self.photos_captioned = Counter(
            "captionbot_photos_captioned", "Photos captioned", registry=self.registry
        )
        self.reply_latency = Histogram(
            "captionbot_update_to_reply_seconds",
            "From a photo's arrival to its reply sent",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "captionbot_telegram_errors",
            "Telegram calls that failed, by what became of them (retried or given up)",
            ["outcome"],
            registry=self.registry,
        )
        self.translation_failures = Counter(
            "captionbot_translation_failures",
            "Captions sent without their translation (every service failed)",
            registry=self.registry,
        )

        self.loop_lag = Histogram(
            "captionbot_event_loop_lag_seconds",
            "How late the event loop woke a task that asked to wake 50 ms later",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.loop_lag_worst = Gauge(
            "captionbot_event_loop_lag_max_seconds",
            "The event loop's worst lag since the process started",
            registry=self.registry,
        )

    def serve(self, port: int, address: str = "127.0.0.1") -> int:
        """Serve /metrics on a thread of its own until `stop`; returns the port (0: any free)."""
        self._server, _thread = start_http_server(port, address, registry=self.registry)
        port = int(self._server.server_port)
        log.info("metrics on http://%s:%d/metrics", address, port)
        return port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
