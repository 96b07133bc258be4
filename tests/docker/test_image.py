"""The built Docker image, run for real (`make docker-test`; not part of `make test`).

Each check runs the image `CAPTIONBOT_DOCKER_IMAGE` (set by `make docker-test`) with host
networking: the model inside it loads and captions, `captionbot web` serves the page on request,
and the bot in a container answers a photo sent through the fake Telegram server on this
machine's loopback, stops cleanly on SIGTERM, keeps its database on the volume across a restart,
runs as the unprivileged user and stays within its memory. They skip where Docker or the image is
absent, or the variable is not set.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bench.fake_telegram import FakeTelegram
from bot.bench.ports import free_port
from tests import images

pytestmark = pytest.mark.docker

log = logging.getLogger(__name__)

IMAGE = os.environ.get("CAPTIONBOT_DOCKER_IMAGE", "")
IMAGE_LIMIT = 1.5e9  # bytes
RSS_LIMIT_KB = 400 * 1024  # the int8 bot after its first photo
HEALTH_LIMIT_S = 1.0
WAIT = 180.0
USER_ID = "10001"


def _docker_problem() -> str | None:
    if not IMAGE:
        return "set CAPTIONBOT_DOCKER_IMAGE (make docker-test) to check a built image"
    if shutil.which("docker") is None:
        return "docker is not installed"
    try:
        found = subprocess.run(
            ["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker does not answer: {exc}"
    return None if found.returncode == 0 else f"no image {IMAGE} (make docker)"


problem = _docker_problem()
if problem is not None:
    pytest.skip(problem, allow_module_level=True)


def docker(*args: str, timeout: float = WAIT, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"captionbot-test-{uuid.uuid4().hex[:8]}"
    docker("volume", "create", name)
    yield name
    docker("volume", "rm", "-f", name, check=False)


class Container:
    """`docker run -d` of the image, removed at the end."""

    def __init__(self, volume: str, env: dict[str, str], *command: str) -> None:
        self.name = f"captionbot-test-{uuid.uuid4().hex[:8]}"
        flags = [f"--env={k}={v}" for k, v in env.items()]
        self.started = time.monotonic()
        docker(
            "run", "-d", "--name", self.name, "--network", "host",
            "-v", f"{volume}:/data", *flags, IMAGE, *command,
        )  # fmt: skip

    def wait_polling(self, tg: FakeTelegram, since: float | None = None) -> None:
        """Until the bot in the container long-polls `tg`; fails with its log if it exits."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                tg.wait_polling(since=since, timeout=2.0)
                return
            except AssertionError:
                if not self.state()["Running"] or time.monotonic() > deadline:
                    raise AssertionError(f"the bot did not poll:\n{self.logs()[-3000:]}") from None

    def exec(self, *command: str) -> str:
        return docker("exec", self.name, *command)

    def state(self) -> dict[str, object]:
        state: dict[str, object] = json.loads(
            docker("inspect", "--format={{json .State}}", self.name)
        )
        return state

    def logs(self) -> str:
        done = subprocess.run(
            ["docker", "logs", self.name], capture_output=True, text=True, timeout=60, check=False
        )
        return done.stdout + done.stderr

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


def bot_env(tg: FakeTelegram, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_BASE_URL": tg.base_url,
        "TELEGRAM_BASE_FILE_URL": tg.base_file_url,
        "TRANSLATION_BACKENDS": "libre",  # no translations: nothing beyond the loopback
        "LIBRETRANSLATE_URL": "http://127.0.0.1:9/",
        **extra,
    }


def vm_rss_kb(container: Container, pid: str = "1") -> int:
    status = container.exec("cat", f"/proc/{pid}/status")
    line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1])


def test_the_image_is_small_and_runs_as_the_unprivileged_user() -> None:
    size = int(docker("image", "inspect", "--format={{.Size}}", IMAGE))
    log.warning("image %s: %.2f GB", IMAGE, size / 1e9)
    assert size <= IMAGE_LIMIT
    assert docker("image", "inspect", "--format={{.Config.User}}", IMAGE).strip() == "captionbot"
    uid = docker("run", "--rm", "--network", "host", IMAGE, "id", "-u")
    assert uid.strip() == USER_ID


def test_health_with_the_model_loaded(volume: str) -> None:
    # the exit status is the check: docker() fails the test on any other than 0
    docker(
        "run", "--rm", "--network", "host", "-v", f"{volume}:/data", IMAGE,
        "sh", "-c", "captionbot db upgrade && captionbot health --load-model",
    )  # fmt: skip


HEALTH_TIMER = """
import subprocess, sys, time
subprocess.run(["captionbot", "db", "upgrade"], check=True, capture_output=True)
ALONE = (
    "import argparse, sys; from bot.health import run; "
    "sys.exit(run(argparse.Namespace(load_model=False)))"
)
for command in (["captionbot", "health"], [sys.executable, "-c", ALONE]):
    times = []
    for _ in range(3):  # the quickest of three: the files are in the page cache by then
        started = time.monotonic()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.monotonic() - started)
    print(min(times))
"""


def test_the_health_check_is_quick(volume: str) -> None:
    """`captionbot health` under a second, timed inside a container, beside the check alone
    (`bot.health.run` without the command line's imports)."""
    out = docker("run", "--rm", "--network", "host", "-v", f"{volume}:/data", IMAGE,
                 "python", "-c", HEALTH_TIMER)  # fmt: skip
    command, alone = (float(x) for x in out.split())
    log.warning("captionbot health: %.2f s; the check alone: %.2f s", command, alone)
    assert alone < HEALTH_LIMIT_S
    assert command < HEALTH_LIMIT_S


def test_a_photo_is_captioned(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "photo.jpg").write_bytes(images.jpeg(3))
    photos.chmod(0o755)
    (photos / "photo.jpg").chmod(0o644)
    out = docker(
        "run", "--rm", "--network", "host", "-v", f"{photos}:/photos:ro", IMAGE,
        "captionbot", "caption", "/photos/photo.jpg", "--json",
    )  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    assert result["caption"].split(), result


def test_the_image_serves_the_web_page_on_request(volume: str) -> None:
    port = free_port()
    web = Container(volume, {}, "captionbot", "web", "--host", "127.0.0.1", "--port", str(port))
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=5) as answer:
                    assert answer.read() == b"ok"
                break
            except OSError:
                if not web.state()["Running"] or time.monotonic() > deadline:
                    raise AssertionError(f"no web page:\n{web.logs()[-3000:]}") from None
                time.sleep(1.0)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b"<html" in page.read().lower()
    finally:
        web.remove()


def test_the_bot_in_a_container_answers_stops_and_keeps_its_database(volume: str) -> None:
    with FakeTelegram() as tg:
        bot = Container(volume, bot_env(tg, ENGINE="int8"))
        try:
            bot.wait_polling(tg)
            started = time.monotonic() - bot.started
            log.warning("docker run to the first getUpdates: %.1f s", started)
            user = tg.add_user("Ann")
            photo = tg.send_photo(user, images.jpeg(1))
            reply = tg.wait_reply(photo, timeout=WAIT)
            assert reply.text and reply.text.split(), reply.text
            time.sleep(1.0)  # the reply is recorded, the worker idle again
            rss = vm_rss_kb(bot)
            log.warning("the int8 bot after its first photo: VmRSS %.0f MB", rss / 1024)
            assert rss <= RSS_LIMIT_KB

            # every process in the container runs as the unprivileged user
            lines = bot.exec("sh", "-c", "cat /proc/[0-9]*/status 2>/dev/null | grep ^Uid:")
            uids = {line.split()[1] for line in lines.splitlines()}  # real uid of each process
            assert uids == {USER_ID}, lines

            # SIGTERM (docker stop) ends it cleanly, well before docker's SIGKILL
            stopping = time.monotonic()
            docker("stop", "--time", "60", bot.name, timeout=90)
            state = bot.state()
            assert state["ExitCode"] == 0, bot.logs()[-3000:]
            assert time.monotonic() - stopping < 30
            assert "Traceback" not in bot.logs(), bot.logs()[-3000:]

            # the database is on the volume: a new container with it knows the photo
            query = (
                "import sqlite3; c = sqlite3.connect('/data/captionbot.sqlite3'); "
                "print(c.execute('select status, caption from jobs').fetchall())"
            )
            rows = docker("run", "--rm", "-v", f"{volume}:/data", IMAGE, "python", "-c", query)
            caption = reply.text.splitlines()[0].rstrip(".").lower()  # then any notes
            assert "done" in rows and caption in rows.lower(), rows

            # and the bot starts again on it (the same container, restarted)
            since = time.monotonic()
            docker("start", bot.name)
            bot.wait_polling(tg, since)
            second = tg.send_photo(user, images.jpeg(2))
            assert tg.wait_reply(second, timeout=WAIT).text
            assert len(tg.replies_to(photo)) == 1  # the first photo was not answered again
        finally:
            bot.remove()
