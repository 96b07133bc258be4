"""Several processes on one PostgreSQL database (a real server, started by the tests): a front
that takes updates (`run --no-worker`) and workers that caption (`worker`), killed, started late,
and webhook replicas that each get the same update.

They need Debian's PostgreSQL binaries and skip without them.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import FakeTelegram
from bot.bench.ports import free_port
from tests import images
from tests.conftest import stop_all
from tests.e2e.conftest import WAIT, is_caption, query, wait_until
from tests.fake_translate import FakeTranslate
from tests.postgres import PostgresServer, binaries

pytestmark = pytest.mark.skipif(binaries() is None, reason="PostgreSQL binaries are absent")

LEASE_S = "3"  # a dead worker's jobs go to another within seconds


class Cluster:
    """Bots on one fresh PostgreSQL database; each started process is stopped at the end."""

    def __init__(
        self,
        tmp_path: Path,
        telegram: FakeTelegram,
        translate: FakeTranslate,
        bundle: Path,
        database: str,
    ) -> None:
        self.tmp_path, self.telegram, self.translate = tmp_path, telegram, translate
        self.bundle, self.database = bundle, database
        self.processes: list[BotProcess] = []

    def start(self, *command: str, wait: bool = True, **env: str) -> BotProcess:
        workdir = self.tmp_path / f"process{len(self.processes) + 1}"
        workdir.mkdir()
        env = {"LEASE_S": LEASE_S, **env}
        process = BotProcess(
            workdir, self.telegram, self.translate, self.bundle, env, self.database, command
        )
        self.processes.append(process)
        return process.start(wait=wait)

    def answered_by(self) -> Counter[str]:
        """Jobs done, by the worker that answered them."""
        rows = query(self.database, "SELECT worker FROM jobs WHERE status = 'done'")
        return Counter(str(worker) for (worker,) in rows)


@pytest.fixture
def cluster(
    tmp_path: Path,
    fake_telegram: FakeTelegram,
    fake_translate: FakeTranslate,
    tiny_bundle: Path,
    postgres: PostgresServer,
) -> Iterator[Cluster]:
    found = Cluster(tmp_path, fake_telegram, fake_translate, tiny_bundle, postgres.new_database())
    yield found
    stop_all(found.processes)


def send_photos(tg: FakeTelegram, users: int, each: int, slow_s: float) -> list[dict[str, object]]:
    """`each` photos from each of `users` new users, interleaved; every download takes `slow_s`."""
    senders = [tg.add_user() for _ in range(users)]
    photos = []
    for n in range(each):
        for k, user in enumerate(senders):
            photo = tg.send_photo(user, images.jpeg(100 + n * users + k))
            tg.slow_download(photo["photo"][-1]["file_id"], slow_s)  # type: ignore[index]
            photos.append(photo)
    return photos


def test_a_worker_killed_mid_batch_loses_nothing(
    cluster: Cluster, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    cluster.start("run", "--no-worker")
    doomed = cluster.start("worker", WORKER_NAME="doomed", BATCH_SIZE="4")
    cluster.start("worker", WORKER_NAME="survivor", BATCH_SIZE="4")
    photos = send_photos(tg, users=10, each=4, slow_s=0.5)

    def doomed_holds_jobs() -> bool:
        sql = "SELECT COUNT(*) FROM jobs WHERE worker = 'doomed' AND status = 'running'"
        return int(str(query(cluster.database, sql)[0][0])) > 0

    wait_until(doomed_holds_jobs, "the doomed worker to claim photos")
    doomed.kill()
    for photo in photos:
        assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    replies = Counter(len(tg.replies_to(photo)) for photo in photos)
    assert replies[0] == 0 and sum(n for k, n in replies.items() if k > 1) <= 1, replies
    assert cluster.answered_by()["survivor"] > 0
    taken_over = query(
        cluster.database,
        "SELECT COUNT(*) FROM jobs WHERE worker = 'survivor' AND attempts > 1",
    )
    assert int(str(taken_over[0][0])) > 0  # what the doomed worker held, the survivor finished


def test_a_worker_started_late_takes_its_share(
    cluster: Cluster, fake_telegram: FakeTelegram, vocab: frozenset[str]
) -> None:
    tg = fake_telegram
    cluster.start("run", "--no-worker")
    cluster.start("worker", WORKER_NAME="early", BATCH_SIZE="2")
    photos = send_photos(tg, users=10, each=4, slow_s=3.0)
    cluster.start("worker", WORKER_NAME="late", BATCH_SIZE="2")
    for photo in photos:
        assert is_caption(tg.wait_reply(photo, timeout=WAIT).text, vocab)
    wait_until(lambda: sum(cluster.answered_by().values()) == 40, "every job to be done")
    answered = cluster.answered_by()
    assert answered["late"] >= 4, answered  # a tenth; it came 3 s of downloads late
    assert all(len(tg.replies_to(photo)) == 1 for photo in photos)


def test_webhook_replicas_answer_an_update_once(
    cluster: Cluster, fake_telegram: FakeTelegram
) -> None:
    """Without WEBHOOK_SECRET too: both replicas register the same secret, and take deliveries
    with it (a random secret each, the last registered would win and the other answer 403)."""
    tg = fake_telegram
    ports = [free_port(), free_port()]
    replicas = [
        cluster.start(
            "run",
            "--no-worker",
            wait=False,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        for port in ports
    ]
    registered = tg.wait_for_calls(
        lambda c: c.ok and c.method == "setWebhook", count=2, timeout=WAIT
    )
    secrets = {call.params["secret_token"] for call in registered}
    assert len(secrets) == 1
    [secret] = secrets
    user = tg.add_user()
    message = tg.user_message(user, text="/help", entities=[
        {"type": "bot_command", "offset": 0, "length": 5}
    ])  # fmt: skip
    body = json.dumps({"update_id": 987_654, "message": message}).encode()
    for port in ports:  # as a load balancer that retries on the other replica would
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/telegram",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": secret,
            },
        )
        wait_until(lambda r=request: _delivered(r), "the replica to take the update")
    tg.wait_message(user.id, timeout=WAIT)
    wait_until(
        lambda: any("taken by another replica" in r.log_text() for r in replicas),
        "the second replica to drop its copy",
    )
    assert len(tg.messages(user.id)) == 1


def _delivered(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False  # not listening yet
