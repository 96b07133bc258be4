"""Everything the web page says, in English and Russian (the original page spoke Russian)."""

import re

from bot.texts import LANGUAGES

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
# Characters that Streamlit's Markdown would read as formatting, links, HTML or LaTeX.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")

TEXTS: dict[str, dict[str, str]] = {
    "title": {"en": "What is in this photo?", "ru": "Что на этой фотографии?"},
    "intro": {
        "en": (
            "Upload a photo or take one with your camera, and a neural network describes it in "
            "an English sentence, with a Russian translation, and shows where it looked for "
            "each word."
        ),
        "ru": (
            "Загрузите фотографию или снимите её камерой, и нейросеть опишет её предложением "
            "на английском, с переводом на русский, и покажет, куда она смотрела для каждого "
            "слова."
        ),
    },
    "language": {"en": "Language", "ru": "Язык"},
    "source": {"en": "Photo from", "ru": "Откуда фото"},
    "source_upload": {"en": "a file", "ru": "из файла"},
    "source_camera": {"en": "the camera", "ru": "с камеры"},
    "upload_label": {
        "en": "A photo: JPEG, PNG, WebP or HEIC, up to {limit}",
        "ru": "Фотография: JPEG, PNG, WebP или HEIC, до {limit}",
    },
    "camera_label": {"en": "Take a photo", "ru": "Сделайте снимок"},
    "describe": {"en": "Describe the image", "ru": "Описать изображение"},
    "loading": {"en": "Loading the model…", "ru": "Загружаю модель…"},
    "working": {"en": "Looking at the photo…", "ru": "Смотрю на фотографию…"},
    "translation_missing": {
        "en": "The Russian translation is not available right now.",
        "ru": "Перевод на русский сейчас недоступен.",
    },
    "english_original": {"en": "In English: {text}", "ru": "По-английски: {text}"},
    "russian_translation": {"en": "In Russian: {text}", "ru": "По-русски: {text}"},
    "guess": {
        "en": "This caption is a guess: {reason}",
        "ru": "Эта подпись — догадка: {reason}",
    },
    "doubt_text": {
        "en": "the photo seems to be mostly text, which the model cannot read.",
        "ru": "на фото, похоже, в основном текст, а читать модель не умеет.",
    },
    "doubt_unfamiliar": {
        "en": "the photo is unlike the ones the model learned from.",
        "ru": "фото не похоже на те, на которых училась модель.",
    },
    "doubt_other": {"en": "the model is unsure ({doubt}).", "ru": "модель не уверена ({doubt})."},
    "tags_heading": {"en": "What the classifier recognised", "ru": "Что узнал классификатор"},
    "alternatives_heading": {"en": "Other captions", "ru": "Другие подписи"},
    "alternatives_help": {
        "en": "The other beam-search candidates; the score is the mean log-probability per "
        "word (closer to 0 is surer).",
        "ru": "Другие варианты лучевого поиска; оценка — средняя логарифмическая вероятность "
        "слова (чем ближе к 0, тем увереннее).",
    },
    "best_score": {"en": "score {score:.2f}", "ru": "оценка {score:.2f}"},
    "no_alternatives": {"en": "No other captions.", "ru": "Других подписей нет."},
    "attention_heading": {"en": "Where the model looked", "ru": "Куда смотрела модель"},
    "attention_help": {
        "en": "The photo as the model saw it, then one picture per word: bright where the "
        "model looked when it chose that word.",
        "ru": "Фото, каким его видела модель, и по картинке на каждое слово: светлее там, "
        "куда модель смотрела, выбирая это слово.",
    },
    "not_image": {
        "en": "This file is not a photo the model can read ({detail}). Please upload a JPEG, "
        "PNG, WebP or HEIC image.",
        "ru": "Этот файл — не фотография, которую модель может прочитать ({detail}). "
        "Загрузите изображение JPEG, PNG, WebP или HEIC.",
    },
    "too_big": {
        "en": "This file is {size}, more than the {limit} the page accepts. Please upload a "
        "smaller photo.",
        "ru": "Этот файл весит {size}, больше допустимых {limit}. Загрузите фото поменьше.",
    },
    "failed": {
        "en": "The model could not describe this photo. Please try another one.",
        "ru": "Модели не удалось описать это фото. Попробуйте другое.",
    },
    "unavailable": {
        "en": "The model is not available: {detail}",
        "ru": "Модель недоступна: {detail}",
    },
    "card_heading": {"en": "About the model", "ru": "О модели"},
    "card_what": {
        "en": "A ResNet-50 encoder (ImageNet weights, frozen) and an LSTM decoder with soft "
        "attention (“Show, Attend and Tell”, Xu et al. 2015). Captions are made in English; "
        "the Russian ones are machine translations.",
        "ru": "Кодировщик ResNet-50 (веса ImageNet, замороженные) и LSTM-декодер с мягким "
        "вниманием («Show, Attend and Tell», Xu et al. 2015). Подписи составляются на "
        "английском, русские — машинный перевод.",
    },
    "card_data": {"en": "Trained on: {data}.", "ru": "Обучена на: {data}."},
    "card_scores": {
        "en": "Test scores (1,000 photos, beam 5): BLEU-4 {bleu4:.3f}, METEOR {meteor:.3f}.",
        "ru": "Оценки на тесте (1000 фото, луч 5): BLEU-4 {bleu4:.3f}, METEOR {meteor:.3f}.",
    },
    "card_no_scores": {
        "en": "This model has no recorded test scores.",
        "ru": "У этой модели нет записанных оценок на тесте.",
    },
    "card_weaknesses": {
        "en": "What it does badly: Flickr8k is 8,000 photos of people and dogs, so on other "
        "photos (food, screenshots, objects, rooms) it still invents people or things now and "
        "then, though the ImageNet classifier it is grounded in stops most of it (on COCO "
        "photos without people, a quarter of captions still name one); it cannot read text; "
        "it knows about 2,500 words; counts and colours are often wrong; "
        "many captions sound alike (“a man in a blue shirt …”).",
        "ru": "Чего она не умеет: Flickr8k — это 8000 фото людей и собак, поэтому на других "
        "снимках (еда, скриншоты, предметы, комнаты) она всё ещё иногда выдумывает людей или "
        "предметы, хотя классификатор ImageNet, на который она опирается, убирает большую "
        "часть выдумок (на фото COCO без людей человек всё ещё есть в четверти подписей); "
        "она не умеет читать текст; знает около 2500 слов; часто ошибается в числе и цвете; "
        "многие подписи похожи друг на друга («a man in a blue shirt …»).",
    },
}


def text(language: str, key: str, **values: object) -> str:
    """The interface text `key` in `language` (English if there is no such language)."""
    variants = TEXTS[key]
    template = variants.get(language, variants["en"])
    return template.format(**values) if values else template


def doubt_reason(language: str, doubt: str) -> str:
    """Why a caption is a guess, in words ("text", "unfamiliar", or any reason named later)."""
    key = f"doubt_{doubt}"
    return text(language, key) if key in TEXTS else text(language, "doubt_other", doubt=doubt)


def language_for(locale: str | None) -> str:
    """The interface language for a browser's locale ("ru-RU" -> "ru"); English otherwise."""
    code = (locale or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else "en"


def plain(words: str) -> str:
    """Text from elsewhere (a caption, a translation) escaped to show as itself in Markdown."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", words)
