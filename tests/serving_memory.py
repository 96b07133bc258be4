"""How much memory the serving bot holds: `python -m tests.serving_memory [--engine int8]
[--large N --megapixels M]`.

Starts the real `captionbot run` on the shipped bundle against the fake Telegram server, sends it
one photo, waits for the caption, and logs the process's resident memory (VmRSS, and its anonymous
and file-backed parts from /proc/PID/status) and how long it took to start polling. What the
README's lean-server figures on the host come from; the Docker image's come from
`make docker-test`. With `--large N`, N users then each send a JPEG file of M megapixels at once:
it logs how many were answered and the highest VmRSS while they were (sampled every 20 ms) over
the VmRSS before them.
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

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


def large_jpeg(megapixels: float, seed: int) -> bytes:
    """A photo of `megapixels` (4:3) as a JPEG file: the scene scaled up, with fine noise so that
    it does not compress to nothing."""
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    small = images.scene(seed, (width // 8, height // 8))
    big = small.resize((width, height), Image.Resampling.BILINEAR)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    big = Image.blend(big, noise, 0.08)
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def peak_during(pid: int, done: threading.Event) -> list[int]:
    """Sample VmRSS (kB) every 20 ms until `done`; the samples."""
    samples: list[int] = []
    while not done.is_set():
        samples.append(memory(pid)["VmRSS"])
        time.sleep(0.02)
    return samples


def large_photos(tg: FakeTelegram, pid: int, count: int, megapixels: float) -> None:
    """`count` users send a JPEG file of `megapixels` each, at once; log the answers and the
    resident memory's rise while they are handled."""
    photo = large_jpeg(megapixels, 1)  # the same file from each (each its own file id)
    log.info("%d JPEG files of %.0f megapixels, %.1f MB each", count, megapixels, len(photo) / 1e6)
    users = [tg.add_user(f"Large {n}") for n in range(count)]
    time.sleep(2.0)
    before = memory(pid)["VmRSS"]
    done = threading.Event()
    samples: list[int] = []
    sampler = threading.Thread(target=lambda: samples.extend(peak_during(pid, done)))
    sampler.start()
    started = time.monotonic()
    sent = [
        tg.send_document(user, photo, file_name="large.jpg", mime_type="image/jpeg")
        for user in users
    ]
    answered = 0
    for message in sent:
        reply = tg.wait_reply(message, timeout=600)
        answered += bool(reply.text)
    done.set()
    sampler.join()
    log.info(
        "large photos: %d of %d answered in %.1f s; VmRSS before %.0f MB, highest %.0f MB "
        "(+%.0f MB)",
        answered,
        count,
        time.monotonic() - started,
        before / 1024,
        max(samples) / 1024,
        (max(samples) - before) / 1024,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="int8")
    parser.add_argument("--bundle", type=Path, default=Path("model_weights/flickr8k"))
    parser.add_argument("--threads", default="2", help="OMP_NUM_THREADS for the bot")
    parser.add_argument("--large", type=int, default=0, help="large JPEG files sent at once")
    parser.add_argument("--megapixels", type=float, default=80.0, help="the size of each")
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
        if args.large:
            large_photos(tg, bot.process.pid, args.large, args.megapixels)
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
