"""The whole service under load: the real `captionbot run` process against the fake Telegram server.

N simulated users start at once; each sends a photo, waits for the bot's reply, and sends the
next, `per_user` times. Two paces:

- flat out: the next photo goes the moment the reply arrives. This measures the most photos per
  second the service answers; with N users always waiting, the latency is then N / throughput
  (Little's law), whatever the service does.
- paced: the users together offer a steady `rate` photos per second (each one photo every
  N / rate seconds, their starts spread out), as independent people do; this measures the
  latency at that load. A user whose reply is late sends the next photo when it arrives.

With `workers`, the service is one front (`run --no-worker`) and that many `worker` processes on
one database (PostgreSQL). Each process serves its metrics; after each load the event loop's lag
is read from them (`captionbot_event_loop_lag_seconds`): its 99th percentile over the load (the
upper bound of its histogram bucket) and the worst since the process started, over all processes.

Latency is from the moment the update is put in the fake server to the moment the bot's reply
reaches it. Afterwards every photo must have exactly one reply, and it must be a caption (not an
apology); anything else is reported as lost, refused or duplicated.

The flood scenario (`measure_flood`) runs the bot with its own admission settings (rate limit,
queue size): `users` people each send a photo every `interval` s, `rounds` times, first alone and
then, with as many new people, beside one user who sends `flood` photos at once. It reports the
others' latency both ways, what the flooder received, and any photo of the others not captioned.

The fake server and the process launcher are `fake_telegram.py` and `bot_process.py` beside
this file (the end-to-end tests use them too); the server needs aiohttp (`pip install
captionbot[bench]`, which the dev tools include).
"""

from __future__ import annotations

import logging
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.bench.model import Latency, latency
from bot.bench.ports import free_port
from bot.caption_keyboard import ATTENTION
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.bench.fake_telegram import Call, FakeTelegram, FakeUser

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 600.0
SETTLE_S = 1.0  # after the last reply, how long to watch for a duplicate
FLOOD_SETTLE_S = 5.0  # after the others are answered, how long to watch the flooder's chat


class NoServiceSupport(RuntimeError):
    """The fake Telegram server cannot run here: aiohttp is not installed."""


@dataclass(frozen=True)
class LoopLagFigures:
    p99_ms: float  # the bucket bound that 99 % of the load's lags stayed under
    worst_ms: float  # since the process started


@dataclass(frozen=True)
class ServiceFigures:
    engine: str
    workers: int  # 0: one all-in-one process
    users: int
    offered: float | None  # photos/s the users offer together when paced; None: flat out
    sent: int
    answered: int  # photos that got exactly one caption
    refused: int  # photos answered with an apology
    lost: int  # photos with no reply
    duplicated: int  # photos with more than one reply
    seconds: float
    latency: Latency
    loop_lag: LoopLagFigures | None = None  # the process taking updates (from its metrics)
    workers_loop_lag: LoopLagFigures | None = None  # the worst of the workers, if any

    @property
    def photos_per_s(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def require_fake_server() -> None:
    """Refuse early, with the fix, where the fake Telegram server's aiohttp is missing."""
    try:
        import aiohttp  # noqa: F401
    except ImportError as exc:
        raise NoServiceSupport(
            "the service benchmark's fake Telegram server needs aiohttp: "
            "pip install 'captionbot[bench]'"
        ) from exc


def bot_environment(engine: str, threads: int, batch_size: int) -> dict[str, str]:
    """Settings for the bot under test: the engine, threads and batch under study, and limits
    high enough that the simulated users are served rather than refused."""
    defaults = Settings.model_fields
    return {
        "ENGINE": engine,
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "BATCH_SIZE": str(batch_size),
        "BATCH_WAIT_MS": str(defaults["batch_wait_ms"].default),
        "RATE_LIMIT_PER_MINUTE": "100000",
        "QUEUE_SIZE": "100000",
    }


def is_caption_reply(call: Call) -> bool:
    """A caption has the buttons under it; a refusal or an apology has none."""
    return any(
        str(button.get("callback_data", "")).startswith(f"{ATTENTION}:") for button in call.buttons
    )


def measure_service(
    bundle: Path,
    engine: str,
    user_counts: list[int],
    per_user: int,
    photos: list[bytes],
    threads: int,
    batch_size: int,
    paced: tuple[int, float] | None = None,
    workers: int = 0,
    database_url: str | None = None,
) -> list[ServiceFigures]:
    """Start the bot for `engine` (one process, or a front and `workers` workers, each with
    `threads` threads, on `database_url`) and load it with each number of users in turn, flat
    out; then, with `paced` = (users, rate), that many users offering `rate` photos/s."""
    require_fake_server()
    from bot.bench.bot_process import BotProcess
    from bot.bench.fake_telegram import FakeTelegram

    if workers and database_url is None:
        raise ValueError("workers share a database: give a PostgreSQL URL (--database-url)")
    figures = []
    with tempfile.TemporaryDirectory(prefix="captionbot-bench-") as workdir, FakeTelegram() as tg:
        roles = [("run",)] if not workers else [("run", "--no-worker")] + [("worker",)] * workers
        processes = []
        for n, command in enumerate(roles):
            folder = Path(workdir) / f"process{n}"
            folder.mkdir()
            env = bot_environment(engine, threads, batch_size)
            env.update({"METRICS_PORT": str(free_port()), "METRICS_ADDRESS": "127.0.0.1"})
            processes.append(  # run in `folder`: the bundle's path must not be relative
                BotProcess(folder, tg, None, bundle.resolve(), env, database_url, command)
            )
        log.info("starting the bot with engine %s (%s)", engine, " + ".join(map(" ".join, roles)))
        try:
            for process in processes:
                process.start()
            ports = [int(process.env["METRICS_PORT"]) for process in processes]
            uploaded = [tg.photo_sizes(photo) for photo in photos]  # once: sizes are files
            loads: list[tuple[int, float | None]] = [(users, None) for users in user_counts]
            if paced is not None:
                loads.append(paced)
            size_before, _ = database_size(processes[0].database)
            for users, rate in loads:
                before = [lag_buckets(port) for port in ports]
                load = _load(tg, engine, workers, users, per_user, uploaded, rate)
                after = [lag_buckets(port) for port in ports]
                worst = [worst_lag(port) for port in ports]
                figures.append(
                    replace(
                        load,
                        loop_lag=loop_lag(before[:1], after[:1], worst[:1]),
                        workers_loop_lag=(
                            loop_lag(before[1:], after[1:], worst[1:]) if workers else None
                        ),
                    )
                )
                log.info("%s, %d user(s): %s", engine, users, figures[-1])
        finally:
            for process in processes:
                if process.running:
                    code = process.stop()
                    if code != 0:
                        log.warning("the bot exited with %d:\n%s", code, process.log_tail())
        size_after, jobs = database_size(processes[0].database)
        grown_mb = (size_after - size_before) / 1e6
        log.info(
            "database: %d photos answered in %.1f MB more: %.2f MB per 1,000 photos",
            jobs,
            grown_mb,
            grown_mb / max(1, jobs) * 1000,
        )
    return figures


def database_size(url: str) -> tuple[int, int]:
    """The bot's database: its size in bytes (SQLite's pages, checkpointed; PostgreSQL's
    pg_database_size) and how many jobs it holds."""
    from sqlalchemy import text

    from bot.storage.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            jobs = int(connection.execute(text("SELECT COUNT(*) FROM jobs")).scalar_one())
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
                size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
                return int(pages) * int(size), jobs
            query = text("SELECT pg_database_size(current_database())")
            return int(connection.execute(query).scalar_one()), jobs
    finally:
        engine.dispose()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample a process's /metrics serves: (name, labels) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def lag_buckets(port: int) -> dict[float, float]:
    """The loop-lag histogram's cumulative counts, by bucket bound."""
    return {
        float(dict(labels)["le"]): value
        for (name, labels), value in scrape(port).items()
        if name == "captionbot_event_loop_lag_seconds_bucket"
    }


def worst_lag(port: int) -> float:
    """The process's worst loop lag since it started, in seconds."""
    return scrape(port)[("captionbot_event_loop_lag_max_seconds", ())]


def loop_lag(
    before: list[dict[float, float]], after: list[dict[float, float]], worst_s: list[float]
) -> LoopLagFigures:
    """The 99th percentile of the lags recorded between each process's histogram `before` and
    `after` (the worst of the processes), and the worst of their worst lags."""
    p99 = 0.0
    for old, new in zip(before, after, strict=True):
        counts = {bound: new[bound] - old.get(bound, 0.0) for bound in sorted(new)}
        total = counts.get(float("inf"), 0.0)
        if total:
            p99 = max(p99, next(b for b, n in counts.items() if n >= 0.99 * total))
    return LoopLagFigures(p99 * 1000, max(worst_s) * 1000)


def send_and_wait(
    tg: FakeTelegram,
    user: FakeUser,
    sizes: list[dict[str, Any]],
    sent: list[dict[str, Any]],
    latencies: list[float],
) -> bool:
    """`user` sends the photo `sizes` and waits for the reply: the message goes on `sent`, the
    seconds from the update to the reply on `latencies`. False when no reply came in time."""
    message = tg.user_message(user, photo=sizes)
    began = time.monotonic()
    tg.push_update({"message": message})
    sent.append(message)
    try:
        reply = tg.wait_reply(message, timeout=REPLY_TIMEOUT_S)
    except AssertionError:
        log.error("no reply to a photo of user %d within %.0f s", user.id, REPLY_TIMEOUT_S)
        return False
    latencies.append(reply.at - began)
    return True


def _load(
    tg: FakeTelegram,
    engine: str,
    workers: int,
    users: int,
    per_user: int,
    uploaded: list[list[dict[str, Any]]],
    rate: float | None,
) -> ServiceFigures:
    people = [tg.add_user(f"User {i}") for i in range(users)]
    sent: list[dict[str, Any]] = []
    latencies: list[float] = []
    started = time.monotonic()

    def user_session(index: int, user: FakeUser) -> None:
        for round_ in range(per_user):
            if rate is not None:  # user `index` sends at index/rate, then every users/rate s
                due = started + (index + round_ * users) / rate
                time.sleep(max(0.0, due - time.monotonic()))
            sizes = uploaded[(index * per_user + round_) % len(uploaded)]
            if not send_and_wait(tg, user, sizes, sent, latencies):
                return

    with ThreadPoolExecutor(max_workers=users) as pool:
        for future in [pool.submit(user_session, i, u) for i, u in enumerate(people)]:
            future.result()
    seconds = time.monotonic() - started
    time.sleep(SETTLE_S)

    answered = refused = lost = duplicated = 0
    for message in sent:
        replies = tg.replies_to(message)
        if not replies:
            lost += 1
        elif len(replies) > 1:
            duplicated += 1
        elif not is_caption_reply(replies[0]):
            refused += 1
        else:
            answered += 1
    return ServiceFigures(
        engine,
        workers,
        users,
        rate,
        len(sent),
        answered,
        refused,
        lost,
        duplicated,
        seconds,
        latency(latencies) if latencies else Latency(float("nan"), float("nan")),
    )


@dataclass(frozen=True)
class FloodFigures:
    engine: str
    users: int
    interval_s: float
    rounds: int
    flood: int  # photos the flooder sent at once
    alone: Latency  # the others' latency without the flooder
    beside: Latency  # the others' latency beside the flooder
    others_sent: int  # photos of the others, both runs together
    others_missed: int  # of them, photos not answered with exactly one caption
    flooder_messages: int  # messages the bot sent the flooder
    flooder_captions: int


def measure_flood(
    bundle: Path,
    engine: str,
    photos: list[bytes],
    threads: int,
    batch_size: int,
    users: int = 16,
    interval: float = 2.0,
    rounds: int = 10,
    flood: int = 500,
) -> FloodFigures:
    """One bot with its own admission settings: the paced users alone, then new paced users
    beside a user who sends `flood` photos the moment they start."""
    require_fake_server()
    from bot.bench.bot_process import BotProcess
    from bot.bench.fake_telegram import FakeTelegram

    env = bot_environment(engine, threads, batch_size)
    del env["RATE_LIMIT_PER_MINUTE"], env["QUEUE_SIZE"]  # the bot's own: this is what is tested
    with tempfile.TemporaryDirectory(prefix="captionbot-flood-") as workdir, FakeTelegram() as tg:
        bot = BotProcess(Path(workdir), tg, None, bundle.resolve(), env)
        log.info("starting the bot with engine %s for the flood scenario", engine)
        bot.start()
        try:
            uploaded = [tg.photo_sizes(photo) for photo in photos]
            _paced_users(tg, users, interval, 1, uploaded, None)  # warm-up, not counted
            alone_sent, alone = _paced_users(tg, users, interval, rounds, uploaded, None)
            flooder = tg.add_user("Flooder")
            beside_sent, beside = _paced_users(
                tg, users, interval, rounds, uploaded, (flooder, flood)
            )
            time.sleep(FLOOD_SETTLE_S)
        finally:
            code = bot.stop()
            if code != 0:
                log.warning("the bot exited with %d:\n%s", code, bot.log_tail())
        others = alone_sent + beside_sent
        missed = sum(
            1
            for m in others
            if len(tg.replies_to(m)) != 1 or not is_caption_reply(tg.replies_to(m)[0])
        )
        to_flooder = tg.messages(flooder.id)
    return FloodFigures(
        engine,
        users,
        interval,
        rounds,
        flood,
        latency(alone) if alone else Latency(float("nan"), float("nan")),
        latency(beside) if beside else Latency(float("nan"), float("nan")),
        len(others),
        missed,
        len(to_flooder),
        sum(1 for call in to_flooder if is_caption_reply(call)),
    )


def _paced_users(
    tg: FakeTelegram,
    users: int,
    interval: float,
    rounds: int,
    uploaded: list[list[dict[str, Any]]],
    flooder: tuple[FakeUser, int] | None,
) -> tuple[list[dict[str, Any]], list[float]]:
    """New users, each sending a photo every `interval` s (starts spread over the first
    interval), `rounds` times; with `flooder`, that user sends that many photos at the start.
    The photos sent and the latency of each reply."""
    people = [tg.add_user(f"Paced {i}") for i in range(users)]
    sent: list[dict[str, Any]] = []
    latencies: list[float] = []

    burst = []
    if flooder is not None:  # made beforehand, and put in at once, as Telegram delivers a flood
        user, count = flooder
        burst = [
            {"message": tg.user_message(user, photo=uploaded[n % len(uploaded)])}
            for n in range(count)
        ]

    def paced(index: int, user: FakeUser) -> None:
        for round_ in range(rounds):
            due = started + (index / users + round_) * interval
            time.sleep(max(0.0, due - time.monotonic()))
            sizes = uploaded[(index + round_) % len(uploaded)]
            if not send_and_wait(tg, user, sizes, sent, latencies):
                return

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=users) as pool:
        futures = [pool.submit(paced, i, u) for i, u in enumerate(people)]
        if burst:
            tg.push_updates(burst)
        for future in futures:
            future.result()
    time.sleep(SETTLE_S)
    return sent, latencies
