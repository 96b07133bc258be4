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


MAX_JOB_ID = 2**63 - 1  # the largest id a database column holds


def parse(data: str | None) -> tuple[str, int] | None:
    """(ATTENTION or ALTERNATIVES, job id) from a button's callback data; None if it is not one
    of ours (an old version's, or forged)."""
    kind, _, number = (data or "").partition(":")
    if kind not in (ATTENTION, ALTERNATIVES) or not number.isdigit() or len(number) > 19:
        return None
    job_id = int(number)
    return (kind, job_id) if job_id <= MAX_JOB_ID else None


def without(markup: InlineKeyboardMarkup | None, data: str) -> InlineKeyboardMarkup | None:
    """The keyboard less the button whose callback data is `data` (None when none is left)."""
    if markup is None:
        return None
    rows = [
        [button for button in row if button.callback_data != data] for row in markup.inline_keyboard
    ]
    kept = [row for row in rows if row]
    return InlineKeyboardMarkup(kept) if kept else None
