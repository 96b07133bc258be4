"""Everything the web page says, in English; its Russian (the original page spoke Russian) is in the
bot's gettext catalogue, `bot/locale/` (see bot/texts.py and README.md, The bot's texts)."""

import re

from bot.texts import LANGUAGES, N_, translations

LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
# Characters that Streamlit's Markdown would read as formatting, links, HTML or LaTeX.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")

TEXTS: dict[str, str] = {
    "title": N_("What is in this photo?"),
    "intro": N_(
        "Upload a photo or take one with your camera, and a neural network describes it in an"
        " English sentence, with a Russian translation, and shows where it looked for each "
        "word."
    ),
    "language": N_("Language"),
    "source": N_("Photo from"),
    "source_upload": N_("a file"),
    "source_camera": N_("the camera"),
    "upload_label": N_("A photo: JPEG, PNG, WebP or HEIC, up to {limit}"),
    "camera_label": N_("Take a photo"),
    "describe": N_("Describe the image"),
    "loading": N_("Loading the model…"),
    "working": N_("Looking at the photo…"),
    "translation_missing": N_("The Russian translation is not available right now."),
    "english_original": N_("In English: {text}"),
    "russian_translation": N_("In Russian: {text}"),
    "guess": N_("This caption is a guess: {reason}"),
    "doubt_text": N_("the photo seems to be mostly text, which the model cannot read."),
    "doubt_unfamiliar": N_("the photo is unlike the ones the model learned from."),
    "doubt_other": N_("the model is unsure ({doubt})."),
    "tags_heading": N_("What the classifier recognised"),
    "alternatives_heading": N_("Other captions"),
    "alternatives_help": N_(
        "The other beam-search candidates; the score is the mean log-probability per word "
        "(closer to 0 is surer)."
    ),
    "best_score": N_("score {score:.2f}"),
    "no_alternatives": N_("No other captions."),
    "attention_heading": N_("Where the model looked"),
    "attention_help": N_(
        "The photo as the model saw it, then one picture per word: bright where the model "
        "looked when it chose that word."
    ),
    "not_image": N_(
        "This file is not a photo the model can read ({detail}). Please upload a JPEG, PNG, "
        "WebP or HEIC image."
    ),
    "too_big": N_(
        "This file is {size}, more than the {limit} the page accepts. Please upload a smaller"
        " photo."
    ),
    "failed": N_("The model could not describe this photo. Please try another one."),
    "unavailable": N_(
        "The model is not available right now; the site's administrator can find why in its log."
    ),
    "card_heading": N_("About the model"),
    "card_what": N_(
        "A ResNet-50 encoder (ImageNet weights, frozen) and an LSTM decoder with soft "
        "attention (“Show, Attend and Tell”, Xu et al. 2015). Captions are made in English; "
        "the Russian ones are machine translations."
    ),
    "card_data": N_("Trained on: {data}."),
    "card_scores": N_(
        "Test scores (1,000 photos, beam 5): BLEU-4 {bleu4:.3f}, METEOR {meteor:.3f}."
    ),
    "card_no_scores": N_("This model has no recorded test scores."),
    "card_weaknesses": N_(
        "What it does badly: Flickr8k is 8,000 photos of people and dogs, so on other photos "
        "(food, screenshots, objects, rooms) it still invents people or things now and then, "
        "though the ImageNet classifier it is grounded in stops most of it (on COCO photos "
        "without people, about one caption in seven still names one); it cannot read text; it"
        " knows about 2,500 words; counts and colours are often wrong; many captions sound "
        "alike (“a man in a blue shirt …”)."
    ),
}


def text(language: str, key: str, **values: object) -> str:
    """The interface text `key` in `language` (one of LANGUAGES)."""
    template = translations(language).gettext(TEXTS[key])
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
