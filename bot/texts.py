"""Everything the bot says. The English texts are here; their translations are gettext catalogues
in `bot/locale/` (`make translations` extracts these texts, updates the catalogues and compiles
them; README.md, The bot's texts, says how).

A text is looked up by its key: `t("start", language, max_size=...)`. `N_` marks a text for
extraction; `Plural` marks one that depends on a number, and `t` chooses its form (Russian has
three) by the value that its `count` names.
"""

import gettext
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.storage.models import CaptionMode

DOMAIN = "captionbot"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")


def N_(message: str) -> str:
    """Marks `message` for extraction; it is translated when it is said (`t`)."""
    return message


@dataclass(frozen=True)
class Plural:
    """A text with a number in it: `singular` for 1 in English, `plural` otherwise; `count` names
    the value that chooses the form."""

    singular: str
    plural: str
    count: str = "count"


TEXTS: dict[str, str | Plural] = {
    "start": N_(
        "Hi! Send me a photo and I will describe it in a sentence.\n\n"
        "You can send it as a photo or as a file (JPEG, PNG, WebP or HEIC, up to {max_size}).\n"
        "/lang chooses English, Russian or both; /history shows your captions; "
        "/forget deletes them; /help explains more."
    ),
    "help": N_(
        "I describe photos with a neural network trained on Flickr8k.\n\n"
        "Send a photo (or an image file: JPEG, PNG, WebP or HEIC, up to {max_size}) and I reply "
        "to it with a caption. Captions are made in English; Russian ones are machine "
        "translations.\n\n"
        "/lang en|ru|both — the language of captions in this chat\n"
        "/history — your recent captions\n"
        "/forget — delete your photos' records from the bot\n"
        "/help — this message\n\n"
        "In a group, reply to a photo with /caption or mention me in its caption; the "
        "group's admins can turn on /auto to have every photo described. In any chat, type "
        "my @name and a few words to share a photo I described for you."
    ),
    "text_hint": N_("Send me a photo and I will describe it (/help for more)."),
    "unknown_command": N_("I don't know that command. /help lists what I can do."),
    "not_image": N_(
        "I can only describe images: please send a photo, or a JPEG, PNG, WebP or HEIC "
        "file up to {max_size}."
    ),
    "bad_image": N_(
        "I could not read this image; the file may be damaged. Please send a photo, or a "
        "JPEG, PNG, WebP or HEIC file."
    ),
    "too_big": N_(
        "This file is too big: I can only download files up to {max_size}. Please send "
        "it as a photo, or a smaller file."
    ),
    "queue_full": N_(
        "I have too many photos to describe right now, so I am skipping new ones for a "
        "while. Please send this one again in a minute."
    ),
    "user_queue_full": Plural(
        "You already have {count} photo waiting for a description. I will take new ones "
        "once it is answered; the ones you send until then are skipped.",
        "You already have {count} photos waiting for a description. I will take new ones "
        "once those are answered; the ones you send until then are skipped.",
    ),
    "rate_limited": Plural(
        "You have sent {limit} photo in a minute, as many as I describe for one person. "
        "You may send more from {until} UTC (in {seconds} s); photos sent before then are "
        "skipped without a reply.",
        "You have sent {limit} photos in a minute, as many as I describe for one person. "
        "You may send more from {until} UTC (in {seconds} s); photos sent before then are "
        "skipped without a reply.",
        count="limit",
    ),
    "download_delayed": N_(
        "I could not fetch this photo from Telegram yet. I keep trying and will reply when I do."
    ),
    "caption_failed": N_("Sorry, I could not describe this photo. Please try sending it again."),
    "recognised": N_("Also recognised: {labels}."),
    # the caption where the model had nothing true to say: what the classifier recognised
    "hedged": N_("Probably {things}."),
    "and": N_("and"),
    "guess_text": N_(
        "This caption is a guess: the photo looks like text or a screen, and I was trained "
        "to describe photos of scenes, not to read."
    ),
    "guess_unfamiliar": N_(
        "This caption is a guess: I do not recognise what is in this photo, and I am not "
        "sure of the caption."
    ),
    "translation_failed": N_(
        "(The translation service is unavailable right now, so the caption is in English.)"
    ),
    "lang_prompt": N_("Which language should captions in this chat be in?"),
    "lang_usage": N_("Use /lang en, /lang ru or /lang both, or /lang alone for buttons."),
    "lang_set_en": N_("Captions will be in English."),
    "lang_set_ru": N_("Captions will be in Russian."),
    "lang_set_both": N_("Captions will be in English and Russian."),
    "history_empty": N_("You have no captions here yet. Send me a photo!"),
    "history_header": N_("Your captions, newest first (page {page} of {pages}):"),
    "history_newer": N_("« Newer"),
    "history_older": N_("Older »"),
    "forget_confirm": N_(
        "Delete all your photos' records and captions from the bot, in every chat? "
        "This cannot be undone."
    ),
    "forget_yes": N_("Yes, delete"),
    "forget_no": N_("Cancel"),
    "forget_done": Plural(
        "Done: deleted {count} record of your photos.",
        "Done: deleted {count} records of your photos.",
    ),
    "forget_cancelled": N_("Nothing was deleted."),
    "not_your_button": N_("These buttons are for someone else."),
    # The command menu (setMyCommands)
    "cmd_start": N_("Start and a short introduction"),
    "cmd_help": N_("How to use the bot"),
    "cmd_lang": N_("Caption language: en, ru or both"),
    "cmd_history": N_("Your recent captions"),
    "cmd_forget": N_("Delete your records from the bot"),
    "cmd_caption": N_("In a group: reply to a photo to describe it"),
    "cmd_auto": N_("In a group: on/off, describe every photo (admins)"),
    # Groups
    "caption_usage": N_("Reply to a photo with /caption and I will describe it."),
    "caption_not_photo": N_(
        "That message has no photo I can describe. Reply to a photo with /caption."
    ),
    "admins_only": N_("Only the group's administrators can change this."),
    "groups_only": N_("/auto is for groups: there it makes me describe every photo posted."),
    "auto_usage": N_("Automatic captions are {state} here. Use /auto on or /auto off."),
    "auto_state_on": N_("on"),
    "auto_state_off": N_("off"),
    "auto_on": N_(
        "Done: I will describe every photo posted in this group. Telegram only shows me "
        "every message if I am an administrator of the group or my privacy mode is off "
        "(@BotFather → /setprivacy → Disable)."
    ),
    "auto_on_needs_rights": N_(
        "Done, but I cannot see the photos yet: Telegram only shows me every message if I "
        "am an administrator of this group or my privacy mode is off (@BotFather → "
        "/setprivacy → Disable). Until then, reply to a photo with /caption or mention me "
        "in its caption."
    ),
    "auto_off": N_("Done: I will only describe photos I am asked about (/caption or a mention)."),
    # The buttons under a caption
    "button_attention": N_("🔍 Where I looked"),
    "button_alternatives": N_("💬 Other captions"),
    "alternatives_header": N_("Other captions I considered (score: closer to 0 is surer):"),
    "alternatives_header_numbered": N_(
        "Other captions for photo {number} (score: closer to 0 is surer):"
    ),
    "alternatives_none": N_("I did not consider any other caption for this photo."),
    "attention_caption": N_(
        "Where I looked for each word of “{caption}” (brighter: more attention)."
    ),
    "attention_already_sent": N_("The map is already in the chat."),
    "photo_gone": N_("I no longer have this photo's record."),
    "button_stale": N_("This button no longer works."),
    "photo_unavailable": N_("Sorry, I could not get this photo from Telegram again."),
    # Inline mode
    "inline_empty_title": N_("No captioned photos yet"),
    "inline_empty_description": N_(
        "Send me a photo in a private chat; then find it here by its words."
    ),
    "inline_empty_message": N_(
        "I describe photos: send one to {bot} in a private chat, then type {bot} and a few "
        "words in any chat to share it with its caption."
    ),
    "inline_button": N_("Caption a photo"),
    # /stats, for the bot's administrators
    "stats_refused": N_("Sorry, /stats is only for the bot's administrators."),
    "stats_private_only": N_(
        "The figures are for administrators: send /stats in a private chat with me."
    ),
    "stats_title": N_("Bot statistics"),
    "stats_queue": N_("Queue depth: {count}"),
    "stats_statuses": N_("Jobs per status: {statuses}"),
    "stats_no_jobs": N_("none yet"),
    "stats_captioned": N_("Photos captioned: {hour} in the last hour, {day} in the last day"),
    "stats_latency": N_("Latency (last day): median {median}, p95 {p95}"),
    "stats_no_figure": N_("n/a"),
    "stats_seconds": N_("{value} s"),
    "stats_translation_failures": N_("Translation failures: {day} in the last day, {total} in all"),
    "stats_telegram_errors": Plural(
        "Telegram errors: {count} photo waiting to be tried again, "
        "{retried} answered after a retry in the last day",
        "Telegram errors: {count} photos waiting to be tried again, "
        "{retried} answered after a retry in the last day",
    ),
    "stats_last_error": N_(" (last error: {error})"),
    "stats_refusals": Plural(
        "Photos refused since start: {total} ({reasons}); {count} notice sent, "
        "{dropped} dropped without a reply",
        "Photos refused since start: {total} ({reasons}); {count} notices sent, "
        "{dropped} dropped without a reply",
    ),
    "stats_refused_rate_limited": N_("over the rate limit {count}"),
    "stats_refused_user_queue_full": N_("user's share of the queue full {count}"),
    "stats_refused_queue_full": N_("queue full {count}"),
    "stats_updates_dropped": N_(
        "Other updates dropped (over UPDATES_PER_MINUTE) since start: {count}"
    ),
}

LANGUAGE_BUTTONS = {
    CaptionMode.EN: "English",
    CaptionMode.RU: "Русский",
    CaptionMode.BOTH: "English + Русский",
}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language` ("en" or "ru"); English is the texts themselves."""
    if language not in LANGUAGES:
        raise ValueError(f"no texts in {language!r}: the bot speaks {', '.join(LANGUAGES)}")
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])


def t(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` ("en" or "ru"), with `values` filled in (values a text does
    not use are ignored)."""
    text = TEXTS[key]
    catalogue = translations(language)
    if isinstance(text, Plural):
        count = values[text.count]
        if not isinstance(count, int):
            raise TypeError(f"text {key!r}: {text.count} must be a whole number, not {count!r}")
        return catalogue.ngettext(text.singular, text.plural, count).format(**values)
    return catalogue.gettext(text).format(**values)


def megabytes(size: int, language: str) -> str:
    """A file size for people: "20 MB" / "20 МБ", one decimal below 10 MB."""
    value = size / (1024 * 1024)
    number = f"{value:.1f}" if value < 10 else f"{value:.0f}"
    if language == "ru":
        return f"{number.replace('.', ',')} МБ"
    return f"{number} MB"
