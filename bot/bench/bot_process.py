"""The real `captionbot run` process (or `run --no-worker`, or `worker`), started against the fake
servers: by the service benchmark and the end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from bot.bench.fake_telegram import FakeTelegram


class TranslationServer(Protocol):
    """Where the bot's translation backends are sent (the tests' fake translation server)."""

    @property
    def google_url(self) -> str: ...
    @property
    def mymemory_url(self) -> str: ...
    @property
    def libre_url(self) -> str: ...


# Settings of the developer's shell that must not leak into the bot under test.
SCRUBBED_PREFIXES = ("TELEGRAM_", "DATABASE_", "MODEL_", "TRANSLATION_", "WEBHOOK_", "ENGINE")
STARTUP_TIMEOUT = 180.0
WORKER_STARTED = re.compile(r"worker \S+ started")
STOP_TIMEOUT = 60.0


def captionbot_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m bot.cli`."""
    script = Path(sys.executable).with_name("captionbot")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from bot.cli import main; main()"]


class BotProcess:
    """One bot, run in `workdir` (no stray `.env`), logging to `workdir/bot-N.log`.

    It can be stopped (SIGTERM), killed (SIGKILL) and started again with the same settings and
    database, which is how the tests check what survives a crash.
    """

    def __init__(
        self,
        workdir: Path,
        telegram: FakeTelegram,
        translate: TranslationServer | None,
        bundle: Path,
        extra_env: dict[str, str] | None = None,
        database_url: str | None = None,
        command: tuple[str, ...] = ("run",),
    ) -> None:
        self.workdir = workdir
        self.command = command
        self.telegram = telegram
        # a SQLite file of its own unless given a database (PostgreSQL's, say)
        self.database = database_url or f"sqlite:///{workdir / 'bot.sqlite3'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_BASE_URL": telegram.base_url,
                "TELEGRAM_BASE_FILE_URL": telegram.base_file_url,
                "DATABASE_URL": self.database,
                "MODEL_PATH": str(bundle),
                "OMP_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1",
                "BATCH_WAIT_MS": "20",
                # The plain PyTorch engine: the faster ones are built and calibrated on first use
                # (a minute on this machine) and have tests of their own.
                "ENGINE": "eager",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if translate is not None:
            env.update(
                {
                    "GOOGLE_TRANSLATE_URL": translate.google_url,
                    "MYMEMORY_URL": translate.mymemory_url,
                    "LIBRETRANSLATE_URL": translate.libre_url,
                    "TRANSLATION_TIMEOUT_S": "3",
                }
            )
        env.update(extra_env or {})
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self.started_at = 0.0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, wait: bool = True) -> BotProcess:
        """Start the bot; with `wait`, return once it long-polls the fake Telegram server."""
        if self.running:
            raise RuntimeError("the bot is already running")
        log_path = self.workdir / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        self.started_at = time.monotonic()
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*captionbot_command(), *self.command],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready()
        return self

    @property
    def is_worker(self) -> bool:
        """A `captionbot worker`: it never polls, and says when it has started."""
        return self.command[0] == "worker"

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.is_worker:
            if WORKER_STARTED.search(self.logs[-1].read_text(errors="replace")):
                return
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"the worker exited with {self.process.returncode}:\n" + self.log_tail()
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not start within {timeout:.0f} s")
            time.sleep(0.1)
        while True:
            try:
                self.telegram.wait_polling(since=self.started_at, timeout=1.0)
                return
            except AssertionError:
                if self.process is not None and self.process.poll() is not None:
                    raise AssertionError(
                        f"the bot exited with {self.process.returncode} before polling:\n"
                        + self.log_tail()
                    ) from None
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the bot did not poll within {timeout:.0f} s:\n" + self.log_tail()
                    ) from None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the bot did not stop within {timeout:.0f} s of SIGTERM:\n" + self.log_tail()
            ) from None

    def stop_cleanly(self) -> None:
        """Stop the bot and insist that it exited cleanly (status 0, within the timeout)."""
        code = self.stop()
        if code != 0:
            raise AssertionError(
                f"the bot exited with status {code} after SIGTERM:\n" + self.log_tail()
            )

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)

    def restart(self) -> BotProcess:
        if self.running:
            self.stop()
        return self.start()

    def log_text(self) -> str:
        return "\n".join(
            f"===== {path.name} =====\n{path.read_text(errors='replace')}"
            for path in self.logs
            if path.exists()
        )

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
