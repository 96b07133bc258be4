"""Everything the bot says, in English and Russian, and the choice between the two."""

from bot.storage.models import CaptionMode

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
            "/help — this message\n\n"
            "In a group, reply to a photo with /caption or mention me in its caption; the "
            "group's admins can turn on /auto to have every photo described. In any chat, type "
            "my @name and a few words to share a photo I described for you."
        ),
        "ru": (
            "Я описываю фотографии нейросетью, обученной на Flickr8k.\n\n"
            "Пришлите фото (или файл с картинкой: JPEG, PNG, WebP или HEIC, до 20 МБ), и я "
            "отвечу на него подписью. Подписи составляются на английском, русские — машинный "
            "перевод.\n\n"
            "/lang en|ru|both — язык подписей в этом чате\n"
            "/history — ваши последние подписи\n"
            "/forget — удалить записи о ваших фото\n"
            "/help — это сообщение\n\n"
            "В группе ответьте на фото командой /caption или упомяните меня в подписи к нему; "
            "админы группы могут включить /auto, чтобы я описывал каждое фото. В любом чате "
            "наберите моё @имя и несколько слов, чтобы поделиться описанным мной фото."
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
        "en": (
            "I have too many photos to describe right now, so I am skipping new ones for a "
            "while. Please send this one again in a minute."
        ),
        "ru": (
            "Сейчас у меня слишком много фотографий, и новые я пока пропускаю. Пришлите эту "
            "ещё раз через минуту."
        ),
    },
    "user_queue_full": {
        "en": (
            "You already have {count} photos waiting for a description. I will take new ones "
            "once those are answered; the ones you send until then are skipped."
        ),
        "ru": (
            "У вас уже {count} фотографий ждут описания. Новые я возьму, когда отвечу на них; "
            "присланные до тех пор пропускаю."
        ),
    },
    "rate_limited": {
        "en": (
            "You have sent {limit} photos in a minute, as many as I describe for one person. "
            "You may send more from {until} UTC (in {seconds} s); photos sent before then are "
            "skipped without a reply."
        ),
        "ru": (
            "Вы прислали {limit} фотографий за минуту — столько я описываю для одного человека. "
            "Присылайте ещё с {until} UTC (через {seconds} с); присланные раньше я пропущу без "
            "ответа."
        ),
    },
    "caption_failed": {
        "en": "Sorry, I could not describe this photo. Please try sending it again.",
        "ru": "Извините, не получилось описать эту фотографию. Попробуйте прислать её ещё раз.",
    },
    "recognised": {
        "en": "Also recognised: {labels}.",
        "ru": "Ещё я узнал: {labels}.",
    },
    "guess_text": {
        "en": (
            "This caption is a guess: the photo looks like text or a screen, and I was trained "
            "to describe photos of scenes, not to read."
        ),
        "ru": (
            "Эта подпись — догадка: на фото, похоже, текст или экран, а меня учили описывать "
            "снимки сцен, а не читать."
        ),
    },
    "guess_unfamiliar": {
        "en": (
            "This caption is a guess: I do not recognise what is in this photo, and I am not "
            "sure of the caption."
        ),
        "ru": ("Эта подпись — догадка: я не узнаю, что на этом фото, и не уверен в подписи."),
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
    # Groups, inline mode, the buttons under a caption, /stats
    "cmd_caption": {
        "en": "In a group: reply to a photo to describe it",
        "ru": "В группе: ответьте на фото, чтобы я его описал",
    },
    "cmd_auto": {
        "en": "In a group: on/off, describe every photo (admins)",
        "ru": "В группе: on/off, описывать каждое фото (админы)",
    },
    "caption_usage": {
        "en": "Reply to a photo with /caption and I will describe it.",
        "ru": "Ответьте на фотографию командой /caption, и я её опишу.",
    },
    "caption_not_photo": {
        "en": "That message has no photo I can describe. Reply to a photo with /caption.",
        "ru": "В этом сообщении нет фотографии. Ответьте командой /caption на фото.",
    },
    "admins_only": {
        "en": "Only the group's administrators can change this.",
        "ru": "Это могут менять только администраторы группы.",
    },
    "groups_only": {
        "en": "/auto is for groups: there it makes me describe every photo posted.",
        "ru": "/auto — для групп: там я буду описывать каждую присланную фотографию.",
    },
    "auto_usage": {
        "en": "Automatic captions are {state} here. Use /auto on or /auto off.",
        "ru": "Автоматические подписи здесь {state}. Используйте /auto on или /auto off.",
    },
    "auto_state_on": {"en": "on", "ru": "включены"},
    "auto_state_off": {"en": "off", "ru": "выключены"},
    "auto_on": {
        "en": (
            "Done: I will describe every photo posted in this group. Telegram only shows me "
            "every message if I am an administrator of the group or my privacy mode is off "
            "(@BotFather → /setprivacy → Disable)."
        ),
        "ru": (
            "Готово: я буду описывать каждую фотографию в этой группе. Telegram показывает мне "
            "все сообщения, только если я администратор группы или у меня выключен режим "
            "приватности (@BotFather → /setprivacy → Disable)."
        ),
    },
    "auto_on_needs_rights": {
        "en": (
            "Done, but I cannot see the photos yet: Telegram only shows me every message if I "
            "am an administrator of this group or my privacy mode is off (@BotFather → "
            "/setprivacy → Disable). Until then, reply to a photo with /caption or mention me "
            "in its caption."
        ),
        "ru": (
            "Готово, но я пока не вижу фотографий: Telegram показывает мне все сообщения, "
            "только если я администратор этой группы или у меня выключен режим приватности "
            "(@BotFather → /setprivacy → Disable). А пока ответьте на фото командой /caption "
            "или упомяните меня в подписи к нему."
        ),
    },
    "auto_off": {
        "en": "Done: I will only describe photos I am asked about (/caption or a mention).",
        "ru": "Готово: я буду описывать только те фото, о которых меня просят (/caption или "
        "упоминание).",
    },
    "button_attention": {"en": "🔍 Where I looked", "ru": "🔍 Куда я смотрел"},
    "button_alternatives": {"en": "💬 Other captions", "ru": "💬 Другие подписи"},
    "alternatives_header": {
        "en": "Other captions I considered (score: closer to 0 is surer):",
        "ru": "Другие подписи, которые я рассматривал (оценка: чем ближе к 0, тем увереннее):",
    },
    "alternatives_header_numbered": {
        "en": "Other captions for photo {number} (score: closer to 0 is surer):",
        "ru": "Другие подписи к фото {number} (оценка: чем ближе к 0, тем увереннее):",
    },
    "alternatives_none": {
        "en": "I did not consider any other caption for this photo.",
        "ru": "Других подписей к этой фотографии я не рассматривал.",
    },
    "attention_caption": {
        "en": "Where I looked for each word of “{caption}” (brighter: more attention).",
        "ru": "Куда я смотрел для каждого слова подписи «{caption}» (ярче — больше внимания).",
    },
    "attention_already_sent": {
        "en": "The map is already in the chat.",
        "ru": "Карта уже есть в чате.",
    },
    "photo_gone": {
        "en": "I no longer have this photo's record.",
        "ru": "У меня больше нет записи об этой фотографии.",
    },
    "photo_unavailable": {
        "en": "Sorry, I could not get this photo from Telegram again.",
        "ru": "Извините, не получилось снова получить эту фотографию из Telegram.",
    },
    "inline_empty_title": {
        "en": "No captioned photos yet",
        "ru": "Пока нет фотографий с подписями",
    },
    "inline_empty_description": {
        "en": "Send me a photo in a private chat; then find it here by its words.",
        "ru": "Пришлите мне фото в личном чате, потом ищите его здесь по словам.",
    },
    "inline_empty_message": {
        "en": (
            "I describe photos: send one to {bot} in a private chat, then type {bot} and a few "
            "words in any chat to share it with its caption."
        ),
        "ru": (
            "Я описываю фотографии: пришлите фото {bot} в личном чате, а потом наберите {bot} "
            "и несколько слов в любом чате, чтобы поделиться им с подписью."
        ),
    },
    "inline_button": {"en": "Caption a photo", "ru": "Описать фотографию"},
    "stats_refused": {
        "en": "Sorry, /stats is only for the bot's administrators.",
        "ru": "Извините, /stats доступна только администраторам бота.",
    },
}

LANGUAGE_BUTTONS = {
    CaptionMode.EN: "English",
    CaptionMode.RU: "Русский",
    CaptionMode.BOTH: "English + Русский",
}


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
