"""How much memory the serving bot holds: `python -m tests.serving_memory [--engine int8]`.

Starts the real `captionbot run` on the shipped bundle against the fake Telegram server, sends it
one photo, waits for the caption, and logs the process's resident memory (VmRSS, and its anonymous
and file-backed parts from /proc/PID/status) and how long it took to start polling. What the
README's lean-server figures on the host come from; the Docker image's come from
`make docker-test`.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from bot.bench.bot_process import BotProcess
from bot.bench.fake_telegram import FakeTelegram
from tests import images

log = logging.getLogger(__name__)
FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def memory(pid: int) -> dict[str, int]:
    """The /proc/PID/status memory fields, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in FIELDS:
            values[name] = int(rest.split()[0])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="int8")
    parser.add_argument("--bundle", type=Path, default=Path("model_weights/flickr8k"))
    parser.add_argument("--threads", default="2", help="OMP_NUM_THREADS for the bot")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with FakeTelegram() as tg, tempfile.TemporaryDirectory() as workdir:
        env = {"ENGINE": args.engine, "OMP_NUM_THREADS": args.threads}
        bot = BotProcess(Path(workdir), tg, None, args.bundle.resolve(), env)
        started = time.monotonic()
        bot.start()
        ready = time.monotonic() - started
        assert bot.process is not None
        before = memory(bot.process.pid)
        user = tg.add_user("Ann")
        photo = tg.send_photo(user, images.jpeg(1))
        reply = tg.wait_reply(photo, timeout=120)
        time.sleep(1.0)
        after = memory(bot.process.pid)
        code = bot.stop()
    log.info("engine %s: started polling in %.1f s; caption %r", args.engine, ready, reply.text)
    log.info(
        "before the first photo: %s", ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in before.items())
    )
    log.info(
        "after the first photo:  %s", ", ".join(f"{k} {v / 1024:.0f} MB" for k, v in after.items())
    )
    log.info("exit status after SIGTERM: %d", code)


if __name__ == "__main__":
    main()
