"""Telegram's message formatting, as the fake Bot API server applies it.

Telegram turns a text sent with `parse_mode` into plain text plus entities, and refuses text that
it cannot parse ("Bad Request: can't parse entities: ..."). The fake does the same, so a bot that
sends a caption with an unescaped `<` in HTML mode, or an unescaped `.` in MarkdownV2, fails in
the tests as it would against Telegram. Only the plain text is computed; entities are not.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!"


class EntityParseError(ValueError):
    """The text cannot be parsed in the given parse mode; the message is Telegram's."""


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        self.open_tags.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain_from_html(text: str) -> str:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.open_tags:
        tag = parser.open_tags[-1]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return html.unescape("".join(parser.parts))


def _plain_from_markdown_v2(text: str) -> str:
    out: list[str] = []
    i = 0
    in_code = False
    link_depth = 0
    in_url = False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise EntityParseError("Can't parse entities: unexpected end of text after '\\'")
            if not in_url:
                out.append(text[i + 1])
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        elif in_code:
            out.append(ch)
        elif in_url:
            if ch == ")":
                in_url = False
        elif ch == "[":
            link_depth += 1
        elif ch == "]" and link_depth:
            link_depth -= 1
            if text.startswith("(", i + 1):
                in_url = True
                i += 1
        elif ch in "*_~|":
            pass  # formatting markers are not part of the plain text
        elif ch == ">" and (i == 0 or text[i - 1] == "\n"):
            pass  # block quotation
        elif ch in MARKDOWN_V2_RESERVED:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(ch)
        i += 1
    if in_code or link_depth or in_url:
        raise EntityParseError("Can't find end of the entity")
    return "".join(out)


def _plain_from_markdown(text: str) -> str:
    out: list[str] = []
    open_marker: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "*_`":
            open_marker = None if open_marker == ch else (open_marker or ch)
        elif ch == "[" and open_marker is None:
            close = text.find("](", i)
            end = text.find(")", close) if close != -1 else -1
            if close == -1 or end == -1:
                raise EntityParseError(f"Can't find end of the entity starting at byte offset {i}")
            out.append(text[i + 1 : close])
            i = end
        else:
            out.append(ch)
        i += 1
    if open_marker is not None:
        raise EntityParseError("Can't find end of the entity")
    return "".join(out)


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text a user sees for `text` sent with `parse_mode`; raises EntityParseError."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _plain_from_html(text)
    if mode == "markdownv2":
        return _plain_from_markdown_v2(text)
    if mode == "markdown":
        return _plain_from_markdown(text)
    if mode:
        raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")
    return text
