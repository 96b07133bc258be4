"""The text of the bot's reply to a photo or an album: caption(s), grounding notes, numbering."""

from bot.storage.models import CaptionMode
from bot.texts import t
from captioning.hedged import join_things


def caption_reply(english: str, russian: str | None, mode: CaptionMode, language: str) -> str:
    """The reply to a photo: the caption(s) in the chat's mode; a note if the translation failed."""
    english = english or "…"
    if mode == CaptionMode.EN:
        return english
    if russian is None:
        return f"{english}\n{t('translation_failed', language)}"
    if mode == CaptionMode.RU:
        return russian
    return f"{english}\n{russian}"


def hedged_caption(labels: list[str], language: str) -> str:
    """The caption that says only what the classifier recognised ("Probably a stove."), from
    `labels` already in `language` (English captions come from the model with their articles)."""
    return t("hedged", language, things=join_things(labels, t("and", language)))


def grounding_notes(labels: list[str], doubt: str | None, language: str) -> str:
    """The lines under a caption: what the classifier recognised (`labels`, already in
    `language`), and why the caption is a guess if it is; empty when there is neither."""
    lines = [t(f"guess_{doubt}", language)] if doubt else []
    if labels:
        lines.append(t("recognised", language, labels=", ".join(labels)))
    return "\n".join(lines)


def album_reply(
    captions: list[tuple[str, str | None]],
    mode: CaptionMode,
    language: str,
    notes: list[str] | None = None,
) -> str:
    """One reply for an album: each photo's caption(s), numbered in the album's order, with its
    grounding notes, and one note if some translation failed."""
    lines = []
    untranslated = False
    for number, (english, russian) in enumerate(captions, 1):
        if mode != CaptionMode.EN and russian is None:
            untranslated = True
            body = english or "…"
        else:
            body = caption_reply(english, russian, mode, language)
        if notes and notes[number - 1]:
            body += "\n" + notes[number - 1]
        lines.append(f"{number}. " + body.replace("\n", "\n    "))
    if untranslated:
        lines.append(t("translation_failed", language))
    return "\n".join(lines)
