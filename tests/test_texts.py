"""The bot's texts and the web page's: the gettext catalogues hold every text of the code,
translated, compiled as committed, with the same placeholders, and Russian numbers take their three
plural forms."""

import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.handlers.admin import stats_text
from bot.storage.stats import Figures
from bot.texts import DOMAIN, LOCALE_DIR, TEXTS, Plural, megabytes, t
from bot.web.texts import TEXTS as WEB_TEXTS
from bot.web.texts import text

KEYWORDS = {"N_": None, "Plural": (1, 2)}  # as `make translations` extracts them
CATALOGUE = LOCALE_DIR / "ru" / "LC_MESSAGES" / f"{DOMAIN}.po"


def catalogue() -> Catalog:
    with CATALOGUE.open("rb") as file:
        return read_po(file)


def msgid(text: str | Plural) -> str:
    return text.singular if isinstance(text, Plural) else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_catalogue_holds_exactly_the_texts_of_the_code() -> None:
    """The bot's texts and the web page's, each marked for extraction."""
    bot = Path(__file__).parents[1] / "bot"
    extracted = {
        message if isinstance(message, str) else message[0]
        for source in (bot / "texts.py", bot / "web" / "texts.py")
        for _, message, _, _ in extract_from_file("python", source, keywords=KEYWORDS)
    }
    assert extracted == {msgid(text) for text in TEXTS.values()} | set(WEB_TEXTS.values())
    in_catalogue = {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalogue()
        if message.id
    }
    assert in_catalogue == extracted, "run `make translations`"


def test_every_text_is_translated_with_the_same_placeholders() -> None:
    for message in catalogue():
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy (check and unmark it): {message.id}"
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"untranslated: {ids[0]}"
        assert len(strings) == (1 if isinstance(message.id, str) else 3), ids[0]
        for translated in strings:
            assert placeholders(translated) == placeholders(ids[-1]), translated


def test_the_compiled_catalogue_is_the_committed_one() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue())
    committed = CATALOGUE.with_suffix(".mo").read_bytes()
    assert compiled.getvalue() == committed, "run `make translations` and commit the .mo"


@pytest.mark.parametrize(
    ("count", "word"),
    [
        (1, "запись"),
        (2, "записи"),
        (4, "записи"),
        (5, "записей"),
        (11, "записей"),
        (12, "записей"),
        (21, "запись"),
        (22, "записи"),
        (25, "записей"),
        (111, "записей"),
    ],
)
def test_russian_counts_take_their_plural_form(count: int, word: str) -> None:
    assert re.search(rf"\b{count} {word}\b", t("forget_done", "ru", count=count))


def test_english_counts_are_singular_for_one_only() -> None:
    assert t("forget_done", "en", count=1) == "Done: deleted 1 record of your photos."
    assert t("forget_done", "en", count=21) == "Done: deleted 21 records of your photos."
    limited = t("rate_limited", "en", limit=1, until="12:00", seconds=5)
    assert limited.startswith("You have sent 1 photo in a minute")
    assert "21 фотографию" in t("rate_limited", "ru", limit=21, until="12:00", seconds=5)


def test_limits_come_from_the_values_given() -> None:
    for language in ("en", "ru"):
        size = megabytes(5 * 1024 * 1024, language)
        assert size in t("not_image", language, max_size=size)
        assert "20" not in t("too_big", language, max_size=size)


def test_unknown_keys_and_languages_are_errors_not_english() -> None:
    with pytest.raises(KeyError):
        t("no_such_text", "en")
    with pytest.raises(ValueError, match="de"):
        t("start", "de", max_size="1 MB")


def test_stats_speak_russian() -> None:
    figures = Figures(
        queue_depth=3,
        per_status={"done": 2},
        captioned_hour=1,
        captioned_day=2,
        latency_median_s=None,
        latency_p95_s=1.5,
        translation_failures_day=0,
        translation_failures_total=1,
        retrying=1,
        retried_day=0,
        last_error=None,
    )
    english = stats_text(figures, "en")
    assert "Queue depth: 3" in english and "1 photo waiting to be tried again" in english
    russian = stats_text(figures, "ru")
    assert "Статистика бота" in russian and "Очередь: 3" in russian
    assert "median" not in russian and "1.50 с" in russian and "н/д" in russian


def test_the_web_page_speaks_russian_from_the_catalogue() -> None:
    assert text("en", "title") == "What is in this photo?"
    assert text("ru", "title") == "Что на этой фотографии?"
    assert text("ru", "upload_label", limit="20 МБ").endswith("до 20 МБ")
