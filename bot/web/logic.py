"""What the web page does, apart from drawing it: load the model, read an upload, caption it,
translate the caption, and render where the model looked. Nothing here imports Streamlit.

The page keeps one `Resources` per process (Streamlit's resource cache) and one `Description` per
visitor (their session state). Uploads stay in memory: nothing a visitor sends is written to disk.
"""

import asyncio
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy.exc import SQLAlchemyError

from bot import attention_map
from bot.images import enable_heic
from bot.settings import Settings
from bot.storage.database import make_engine, make_sessions
from bot.translation import Translator
from captioning.bundle_config import read_config
from captioning.captioner import Captioner, CaptionResult
from captioning.preprocessing import BadImageError, open_image

log = logging.getLogger(__name__)

UPLOAD_TYPES = ("jpg", "jpeg", "jpe", "png", "webp", "heic", "heif")
TEST_SCORES = "test_beam5"  # the bundle's metrics entry the model card quotes


class UploadError(ValueError):
    """An upload the page will not caption; `key` names its message in `bot.web.texts`."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(detail or key)
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class ModelCard:
    data: str  # what the model was trained on, as its bundle records it
    bleu4: float | None
    meteor: float | None


@dataclass(frozen=True)
class Resources:
    """What every visitor shares: made once per process."""

    settings: Settings
    captioner: Captioner
    translator: Translator
    card: ModelCard
    # One photo through the model at a time: visitors queue here instead of fighting for the
    # cores (each caption takes a fraction of a second).
    model_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Description:
    """One photo's caption and everything shown with it."""

    digest: str  # which photo it describes
    caption: str
    russian: str | None  # None when no translation backend answered
    score: float
    alternatives: list[tuple[str, float]]
    tags: list[tuple[str, float]]  # ImageNet labels and probabilities, where the model gives them
    doubt: str | None  # why the caption is a guess ("text", "unfamiliar"), None when it is not
    attention_jpeg: bytes  # the photo and one tile per word, lit where the model looked


def model_card(path: Path) -> ModelCard:
    """The facts of the model card, from the bundle's config.json."""
    config = read_config(path)
    data = str(config.get("training", {}).get("data", "unknown"))
    scores = config.get("metrics", {}).get(TEST_SCORES, {})
    return ModelCard(data, scores.get("BLEU-4"), scores.get("METEOR"))


def load_resources(settings: Settings) -> Resources:
    """The model, the translator and the model card (slow: seconds)."""
    enable_heic()
    captioner = Captioner.from_pretrained(settings.model_path, engine=settings.engine)
    translator = Translator(settings, make_sessions(make_engine(settings.database_url)))
    log.info("web page: model %s loaded (engine %s)", settings.model_path, settings.engine)
    return Resources(settings, captioner, translator, model_card(settings.model_path))


def photo_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_photo(resources: Resources, data: bytes) -> Image.Image:
    """Decode an upload, or raise UploadError("too_big" / "not_image"). One visitor's photo at a
    time (under the model's lock), a JPEG reduced, none over MAX_IMAGE_PIXELS: visitors uploading
    together cannot add up to gigabytes."""
    settings = resources.settings
    if len(data) > settings.max_file_bytes:
        raise UploadError("too_big")
    try:
        with resources.model_lock:
            return open_image(data, max_pixels=settings.max_image_pixels)
    except BadImageError as exc:
        raise UploadError("not_image", str(exc)) from exc


def translate(translator: Translator, caption: str) -> str | None:
    """The caption in Russian, or None if no backend answered (the page says so)."""
    try:
        return asyncio.run(translator.translate(caption, "ru"))
    except (SQLAlchemyError, RuntimeError) as exc:
        log.warning("web page: translation failed: %s: %s", type(exc).__name__, exc)
        return None


def caption_photo(resources: Resources, image: Image.Image) -> CaptionResult:
    with resources.model_lock:
        return resources.captioner.caption([image], resources.settings.beam_size)[0]


def describe(resources: Resources, image: Image.Image, digest: str) -> Description:
    """Caption, translation, alternatives, tags, doubt and attention picture for one photo."""
    result = caption_photo(resources, image)
    return Description(
        digest=digest,
        caption=result.caption,
        russian=translate(resources.translator, result.caption),
        score=result.score,
        alternatives=list(result.alternatives),
        tags=tags_of(result),
        doubt=getattr(result, "doubt", None),
        attention_jpeg=attention_map.render_jpeg(image, result.words, result.attention),
    )


def tags_of(result: CaptionResult) -> list[tuple[str, float]]:
    """The classifier's labels, for models whose results carry them (none otherwise)."""
    tags: Any = getattr(result, "tags", None) or []
    return [(str(label), float(probability)) for label, probability in tags]
