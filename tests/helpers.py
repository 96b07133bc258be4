"""Small builders shared by the unit tests: tiny random decoders, generated photos, job rows."""

from datetime import timedelta

import torch
from PIL import Image, ImageDraw
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.storage import chats, jobs
from bot.storage.jobs import Step
from bot.storage.models import Job, utcnow
from captioning.decoder import Decoder, DecoderConfig


def tiny_decoder(vocab_size: int = 7, feature_dim: int = 8, seed: int = 0) -> Decoder:
    """A random decoder whose word probabilities are far from uniform (no near-ties)."""
    torch.manual_seed(seed)
    decoder = Decoder(
        DecoderConfig(
            vocab_size, feature_dim, embed_dim=6, attention_dim=5, hidden_dim=9, dropout=0.5
        )
    )
    torch.nn.init.normal_(decoder.out.weight, std=3.0)
    torch.nn.init.normal_(decoder.embed.weight, std=1.0)
    return decoder.eval()


def photo(width: int = 320, height: int = 240, mode: str = "RGB", seed: int = 0) -> Image.Image:
    """A generated picture: a gradient sky, a sun and a green field."""
    image = Image.new("RGB", (width, height), (90, 140, 220))
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):
        draw.line([(0, y), (width, y)], fill=(90 + y % 60, 140, 220 - y % 40))
    draw.rectangle([0, height // 2, width, height], fill=(40 + seed * 10, 160, 60))
    r = min(width, height) // 8
    draw.ellipse(
        [width // 4 - r, height // 4 - r, width // 4 + r, height // 4 + r], fill=(250, 220, 60)
    )
    return image if mode == "RGB" else image.convert(mode)


def add_job(
    session: Session,
    message_id: int,
    *,
    user_id: int = 1,
    chat_id: int | None = None,
    album: str | None = None,
    unique: str | None = None,
) -> Job:
    """A queued job for a photo `user_id` sent in `chat_id` (default: their private chat)."""
    chat_id = chat_id or user_id
    chat_type = "private" if chat_id == user_id else "supergroup"
    chats.remember(
        session, chat_id=chat_id, chat_type=chat_type, user_id=user_id, language_code="en"
    )
    job = jobs.add(
        session,
        chat_id=chat_id,
        user_id=user_id,
        message_id=message_id,
        file_id=f"file-{message_id}",
        file_unique_id=unique or f"u-{message_id}",
        media_group_id=album,
    )
    assert job is not None
    return job


WORKER = "test-worker"


def claim(session: Session, job_id: int, step: Step = Step.CAPTION, worker: str = WORKER) -> bool:
    """Claim the job for `step` as `worker` would (for 30 s); whether it was claimable."""
    until = utcnow() + timedelta(seconds=30)
    return bool(jobs.claim(session, [job_id], step, worker, until))


def hold(session: Session, job_id: int, step: Step = Step.REPLY, worker: str = WORKER) -> None:
    """Mark the job claimed by `worker` for `step`, whatever its status (so that a test can finish
    or fail it as that worker would)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(
            status=jobs.CLAIM[step], worker=worker, lease_until=utcnow() + timedelta(seconds=30)
        )
    )


def finish(session: Session, job_id: int, reply_message_id: int) -> None:
    """The job answered by the test's worker."""
    hold(session, job_id)
    assert jobs.finish(session, job_id, WORKER, reply_message_id)


def fail(session: Session, job_id: int, error: str) -> None:
    """The job given up by the test's worker."""
    hold(session, job_id, Step.CAPTION)
    assert jobs.fail(session, job_id, WORKER, error)
