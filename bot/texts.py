"""Everything the bot says, in English and Russian, and the choice between the two."""

from bot.storage.models import CaptionMode

UI_LANGUAGES = ("en", "ru")

TEXTS: dict[str, dict[str, str]] = {
    "start": {
        "en": (
            "Hi! Send me a photo and I will describe it in a sentence.\n\n"
            "You can send it as a photo or as a file (JPEG, PNG, WebP or HEIC, up to 20 MB).\n"
            "/lang chooses English, Russian or both; /history shows your captions; "
            "/forget deletes them; /help explains more."
        ),
        "ru": (
            "Привет! Пришлите мне фотографию, и я опишу её одним предложением.\n\n"
            "Можно прислать её как фото или как файл (JPEG, PNG, WebP или HEIC, до 20 МБ).\n"
            "/lang — английский, русский или оба; /history — ваши подписи; "
            "/forget — удалить их; /help — подробнее."
        ),
    },
    "help": {
        "en": (
            "I describe photos with a neural network trained on Flickr8k.\n\n"
            "Send a photo (or an image file: JPEG, PNG, WebP or HEIC, up to 20 MB) and I reply "
            "to it with a caption. Captions are made in English; Russian ones are machine "
            "translations.\n\n"
            "/lang en|ru|both — the language of captions in this chat\n"
            "/history — your recent captions\n"
            "/forget — delete your photos' records from the bot\n"
            "/help — this message"
        ),
        "ru": (
            "Я описываю фотографии нейросетью, обученной на Flickr8k.\n\n"
            "Пришлите фото (или файл с картинкой: JPEG, PNG, WebP или HEIC, до 20 МБ), и я "
            "отвечу на него подписью. Подписи составляются на английском, русские — машинный "
            "перевод.\n\n"
            "/lang en|ru|both — язык подписей в этом чате\n"
            "/history — ваши последние подписи\n"
            "/forget — удалить записи о ваших фото\n"
            "/help — это сообщение"
        ),
    },
    "text_hint": {
        "en": "Send me a photo and I will describe it (/help for more).",
        "ru": "Пришлите мне фотографию, и я её опишу (/help — подробнее).",
    },
    "unknown_command": {
        "en": "I don't know that command. /help lists what I can do.",
        "ru": "Я не знаю такой команды. /help — список того, что я умею.",
    },
    "not_image": {
        "en": (
            "I can only describe images: please send a photo, or a JPEG, PNG, WebP or HEIC "
            "file up to 20 MB."
        ),
        "ru": (
            "Я умею описывать только изображения: пришлите фото или файл JPEG, PNG, WebP "
            "или HEIC до 20 МБ."
        ),
    },
    "bad_image": {
        "en": (
            "I could not read this image; the file may be damaged. Please send a photo, or a "
            "JPEG, PNG, WebP or HEIC file."
        ),
        "ru": (
            "Не получилось прочитать это изображение: возможно, файл повреждён. Пришлите фото "
            "или файл JPEG, PNG, WebP или HEIC."
        ),
    },
    "too_big": {
        "en": (
            "This file is too big: I can only download files up to {limit_mb} MB. Please send "
            "it as a photo, or a smaller file."
        ),
        "ru": (
            "Файл слишком большой: я могу скачивать файлы только до {limit_mb} МБ. Пришлите "
            "его как фото или файл поменьше."
        ),
    },
    "queue_full": {
        "en": "I have too many photos to describe right now. Please send this one again soon.",
        "ru": "Сейчас у меня слишком много фотографий. Пришлите эту ещё раз через минуту.",
    },
    "rate_limited": {
        "en": (
            "You have sent more than {limit} photos in a minute. Please wait a little and send "
            "this one again."
        ),
        "ru": (
            "Вы прислали больше {limit} фотографий за минуту. Подождите немного и пришлите эту "
            "ещё раз."
        ),
    },
    "caption_failed": {
        "en": "Sorry, I could not describe this photo. Please try sending it again.",
        "ru": "Извините, не получилось описать эту фотографию. Попробуйте прислать её ещё раз.",
    },
    "translation_failed": {
        "en": "(The translation service is unavailable right now, so the caption is in English.)",
        "ru": "(Сервис перевода сейчас недоступен, поэтому подпись на английском.)",
    },
    "lang_prompt": {
        "en": "Which language should captions in this chat be in?",
        "ru": "На каком языке присылать подписи в этом чате?",
    },
    "lang_usage": {
        "en": "Use /lang en, /lang ru or /lang both, or /lang alone for buttons.",
        "ru": "Используйте /lang en, /lang ru или /lang both, или просто /lang для кнопок.",
    },
    "lang_set_en": {
        "en": "Captions will be in English.",
        "ru": "Подписи будут на английском.",
    },
    "lang_set_ru": {
        "en": "Captions will be in Russian.",
        "ru": "Подписи будут на русском.",
    },
    "lang_set_both": {
        "en": "Captions will be in English and Russian.",
        "ru": "Подписи будут на английском и русском.",
    },
    "history_empty": {
        "en": "You have no captions here yet. Send me a photo!",
        "ru": "Здесь пока нет ваших подписей. Пришлите мне фотографию!",
    },
    "history_header": {
        "en": "Your captions, newest first (page {page} of {pages}):",
        "ru": "Ваши подписи, сначала новые (страница {page} из {pages}):",
    },
    "history_newer": {"en": "« Newer", "ru": "« Новее"},
    "history_older": {"en": "Older »", "ru": "Старее »"},
    "forget_confirm": {
        "en": (
            "Delete all your photos' records and captions from the bot, in every chat? "
            "This cannot be undone."
        ),
        "ru": (
            "Удалить все записи о ваших фотографиях и подписи из бота, во всех чатах? "
            "Это нельзя отменить."
        ),
    },
    "forget_yes": {"en": "Yes, delete", "ru": "Да, удалить"},
    "forget_no": {"en": "Cancel", "ru": "Отмена"},
    "forget_done": {
        "en": "Done: deleted {count} record(s) of your photos.",
        "ru": "Готово: удалено записей о ваших фото: {count}.",
    },
    "forget_cancelled": {"en": "Nothing was deleted.", "ru": "Ничего не удалено."},
    "not_your_button": {
        "en": "These buttons are for someone else.",
        "ru": "Эти кнопки не для вас.",
    },
    "cmd_start": {"en": "Start and a short introduction", "ru": "Начало и короткое знакомство"},
    "cmd_help": {"en": "How to use the bot", "ru": "Как пользоваться ботом"},
    "cmd_lang": {"en": "Caption language: en, ru or both", "ru": "Язык подписей: en, ru или both"},
    "cmd_history": {"en": "Your recent captions", "ru": "Ваши последние подписи"},
    "cmd_forget": {"en": "Delete your records from the bot", "ru": "Удалить ваши записи из бота"},
}

LANGUAGE_BUTTONS = {CaptionMode.EN: "English", CaptionMode.RU: "Русский",
                    CaptionMode.BOTH: "English + Русский"}


def t(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` ("en" or "ru"), with `values` filled in."""
    variants = TEXTS[key]
    return variants.get(language, variants["en"]).format(**values)


def ui_language(chat_language: str | None, user_language_code: str | None) -> str:
    """The language the bot talks in: the chat's /lang choice, else the user's Telegram language."""
    if chat_language == CaptionMode.RU:
        return "ru"
    if chat_language == CaptionMode.EN:
        return "en"
    return "ru" if (user_language_code or "").lower().startswith("ru") else "en"


def caption_mode(chat_language: str | None, user_language_code: str | None) -> CaptionMode:
    """Which caption language(s) a chat gets. Without a /lang choice: English, and for Russian
    speakers English then Russian."""
    if chat_language in set(CaptionMode):
        return CaptionMode(chat_language)
    return CaptionMode.BOTH if ui_language(None, user_language_code) == "ru" else CaptionMode.EN


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
