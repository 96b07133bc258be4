"""The two buttons under every caption: where the model looked (an attention map) and the other
captions it considered. Their callback data is `attn:<job id>` and `alts:<job id>`."""

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import t

ATTENTION = "attn"
ALTERNATIVES = "alts"
CALLBACK_PATTERN = rf"^({ATTENTION}|{ALTERNATIVES}):\d+$"


def caption_keyboard(job_ids: Sequence[int], language: str) -> InlineKeyboardMarkup:
    """One row of the two buttons per photo; numbered when a reply captions an album."""
    numbered = len(job_ids) > 1
    rows = []
    for number, job_id in enumerate(job_ids, 1):
        suffix = f" {number}" if numbered else ""
        rows.append(
            [
                InlineKeyboardButton(
                    t("button_attention", language) + suffix, callback_data=f"{ATTENTION}:{job_id}"
                ),
                InlineKeyboardButton(
                    t("button_alternatives", language) + suffix,
                    callback_data=f"{ALTERNATIVES}:{job_id}",
                ),
            ]
        )
    return InlineKeyboardMarkup(rows)


def parse(data: str) -> tuple[str, int]:
    """(ATTENTION or ALTERNATIVES, job id) from a button's callback data."""
    kind, job_id = data.split(":")
    return kind, int(job_id)


def without(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard less the button whose callback data is `data` (None when none is left)."""
    if markup is None:
        return None
    rows = [
        [button for button in row if button.callback_data != data] for row in markup.inline_keyboard
    ]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None
