"""Which language the bot talks in and which caption language(s) a chat gets."""

from bot.storage.models import CaptionMode


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
