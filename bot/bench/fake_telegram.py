"""A fake Telegram Bot API server on 127.0.0.1: for the service benchmark and the end-to-end tests.

It implements the methods the bot calls, and no others (an unknown method is a 404, so a bot that
starts calling a new one fails its tests until the fake learns it). It speaks the HTTP API as
python-telegram-bot uses it (`/bot<token>/<method>` with JSON, form or
multipart parameters, and `/file/bot<token>/<path>` downloads), answers with Telegram's shapes
(`{"ok": true, "result": ...}`, errors with `error_code`, `description` and, for 429,
`parameters.retry_after`), and keeps the state a bot can observe: chats, messages and their
inline keyboards, files, callback and inline queries, chat members and registered commands.

The server runs an aiohttp application on its own event loop in a background thread. Tests drive
it from their own thread: they put user updates in (`send_photo`, `send_text`, `press_button`,
...), inject failures (`fail_next`, `hold`), and read what the bot did (`calls`,
`wait_for_messages`, `replies_to`). All test-facing methods are thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from aiohttp import ClientSession, ClientTimeout, web
from PIL import Image

from bot.bench.loopback_server import LoopbackServer
from bot.bench.telegram_formatting import EntityParseError, plain_text
from bot.send_budget import sends_message

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TOKEN = "123:TEST"
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
PHOTO_SIDES = (90, 320, 800, 1280)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip
# Update types Telegram leaves out when getUpdates names none.
NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Methods whose successful result is a message (or a list of them) the bot sent or changed.
MESSAGE_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendmediagroup", "editmessagetext",
     "editmessagecaption", "editmessagereplymarkup"}
)  # fmt: skip
SEND_METHODS = frozenset({"sendmessage", "sendphoto"})
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}
# Parameters that are strings in the Bot API; everything else that arrives as a form string is
# JSON-decoded, as python-telegram-bot JSON-encodes every non-string value.
STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "action", "callback_query_id", "inline_query_id",
        "file_id", "next_offset", "url", "secret_token", "language_code", "description",
        "short_description", "name", "photo", "document", "inline_message_id", "emoji",
        "business_connection_id", "switch_pm_text", "switch_pm_parameter",
    }
)  # fmt: skip
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages",
)  # fmt: skip


class ApiError(Exception):
    """A Bot API error response: HTTP status `code` and Telegram's description."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user; in a private chat the chat id is the user id."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def private_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass(frozen=True)
class FakeGroup:
    """A supergroup; its id is negative, as Telegram's are."""

    id: int
    title: str

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "supergroup", "title": self.title}


Chat = FakeUser | FakeGroup


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_size: int
    file_path: str


@dataclass
class Call:
    """One Bot API request the bot made, with its parsed parameters and the answer it got."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    result: Any = None
    error: dict[str, Any] | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """What the user sees: the plain message text or caption after parse_mode."""
        if isinstance(self.result, dict):
            value = self.result.get("text", self.result.get("caption"))
            return value if isinstance(value, str) else None
        if isinstance(self.result, list) and self.result:
            return "\n".join(str(m.get("caption", "")) for m in self.result if isinstance(m, dict))
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_to(self) -> int | None:
        """The message id this call replies to, from reply_parameters or reply_to_message_id."""
        reply = self.params.get("reply_parameters")
        if isinstance(reply, dict) and "message_id" in reply:
            return int(reply["message_id"])
        if self.params.get("reply_to_message_id") is not None:
            return int(self.params["reply_to_message_id"])
        return None

    @property
    def message_id(self) -> int | None:
        if isinstance(self.result, dict) and "message_id" in self.result:
            return int(self.result["message_id"])
        return None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons sent with this call, row by row."""
        markup = self.params.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def describe(self) -> str:
        status = "ok" if self.ok else f"error {self.error}"
        shown = {k: v for k, v in self.params.items() if k not in self.files}
        return f"{self.method}({shown}) -> {status}"


@dataclass
class _Failure:
    method: str
    error: ApiError
    times: int
    chat_id: int | None


@dataclass
class _Poller:
    started: float
    wake: asyncio.Event
    superseded: bool = False


class FakeTelegram(LoopbackServer):
    """The fake Bot API server and its test-facing controls; use as a context manager."""

    thread_name = "fake-telegram"

    def __init__(self, token: str = TOKEN, bot_username: str = "captioner_test_bot") -> None:
        super().__init__()
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.bot_user = FakeUser(bot_id, "Caption Bot", bot_username, None, is_bot=True)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._user_ids = itertools.count(1000001)
        self._group_ids = itertools.count(1001000000001)
        self._update_ids = itertools.count(500000001)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._chats: dict[int, Chat] = {}
        self._blocked: set[int] = set()
        self._members: dict[tuple[int, int], str] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, StoredFile] = {}
        self._paths: dict[str, StoredFile] = {}
        self._updates: list[dict[str, Any]] = []
        self._confirmed_below = 0
        self._allowed_updates: list[str] | None = None
        self._pollers: list[_Poller] = []
        self._poll_starts: list[float] = []
        self._callback_queries: dict[str, bool] = {}
        self._inline_queries: dict[str, bool] = {}
        self._failures: list[_Failure] = []
        self._held: dict[str, asyncio.Event] = {}
        self._outage: ApiError | None = None
        self._group_limit: int | None = None  # sends into one group a minute, as Telegram's
        self._group_sends: dict[int, list[float]] = {}
        self._slow_files: dict[str, float] = {}  # file_id -> seconds its download takes
        self._stalled_files: dict[str, float] = {}  # file_id -> seconds before it answers
        self._waiting: dict[str, int] = {}
        self._webhook_task: asyncio.Task[None] | None = None
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._webhook: dict[str, Any] | None = None
        self.calls_log: list[Call] = []
        self._replies: dict[tuple[Any, int], list[Call]] = {}  # (chat id, message id) -> sends
        self.downloads: list[str] = []
        self.dropped_updates: list[dict[str, Any]] = []
        self.dropped_calls: list[Call] = []  # held requests whose client went away
        self._stopping: asyncio.Event | None = None

    # ----------------------------------------------------------------------------------------
    # Server lifecycle

    @property
    def base_url(self) -> str:
        """For TELEGRAM_BASE_URL: python-telegram-bot appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For TELEGRAM_BASE_FILE_URL."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        return app

    def on_loop_start(self) -> None:
        self._stopping = asyncio.Event()

    async def on_stop(self) -> None:
        assert self._stopping is not None
        self._stopping.set()
        with self._lock:
            for poller in self._pollers:
                poller.wake.set()
            for gate in self._held.values():
                gate.set()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task

    def _call_in_loop(self, fn: Callable[[], None]) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(fn)

    # ----------------------------------------------------------------------------------------
    # Test API: users, chats, files

    def add_user(
        self,
        first_name: str = "Alice",
        *,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> FakeUser:
        """A new user with a private chat with the bot."""
        with self._lock:
            user_id = next(self._user_ids)
            user = FakeUser(user_id, first_name, username or f"user{user_id}", language_code)
            self._chats[user.id] = user
            return user

    def add_group(self, title: str = "Photo club", *, creator: FakeUser | None = None) -> FakeGroup:
        """A new supergroup the bot is a plain member of; `creator` owns it."""
        with self._lock:
            group = FakeGroup(-next(self._group_ids), title)
            self._chats[group.id] = group
            self._members[(group.id, self.bot_user.id)] = "member"
            if creator is not None:
                self._members[(group.id, creator.id)] = "creator"
            return group

    def set_member_status(self, chat: Chat | int, user: FakeUser | int, status: str) -> None:
        """creator, administrator, member, left or kicked, as getChatMember reports it."""
        if status not in {"creator", "administrator", "member", "left", "kicked"}:
            raise ValueError(status)
        with self._lock:
            self._members[(_id(chat), _id(user))] = status

    def block_bot(self, user: FakeUser) -> None:
        """The user blocked the bot: sending to their chat fails with 403."""
        with self._lock:
            self._blocked.add(user.id)

    def put_file(self, data: bytes, *, file_size: int | None = None, extension: str = "bin") -> str:
        """Store a file the bot can getFile and download; `file_size` may claim a larger size."""
        with self._lock:
            n = next(self._ids)
            file_id = f"BQACAgIAAxkBAAIB{n:08d}ZmFrZS1maWxlLWlk{n:04x}"
            stored = StoredFile(
                file_id=file_id,
                file_unique_id=f"AgAD{n:06d}",
                data=data,
                file_size=len(data) if file_size is None else file_size,
                file_path=f"files/file_{n}.{extension}",
            )
            self._files[file_id] = stored
            self._paths[stored.file_path] = stored
            return file_id

    def file_bytes(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].data

    def photo_sizes(self, image: bytes | Image.Image) -> list[dict[str, Any]]:
        """Telegram's PhotoSize list for a photo: JPEG copies at standard sizes, largest last."""
        img = Image.open(io.BytesIO(image)) if isinstance(image, bytes) else image
        img = img.convert("RGB")
        sizes: list[dict[str, Any]] = []
        largest = max(img.size)
        for side in PHOTO_SIDES:
            copy = img.copy()
            copy.thumbnail((side, side))
            buf = io.BytesIO()
            copy.save(buf, format="JPEG", quality=87)
            file_id = self.put_file(buf.getvalue(), extension="jpg")
            stored = self._files[file_id]
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": copy.width,
                    "height": copy.height,
                }
            )
            if side >= largest:
                break
        return sizes

    # ----------------------------------------------------------------------------------------
    # Test API: what users do

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates under a fresh update_id (a copy of `update` is kept)."""
        return self.push_updates([update])[0]

    def push_updates(self, updates: list[dict[str, Any]]) -> list[int]:
        """Queue several updates at once (one burst, as a flood arrives); their update_ids."""
        ids = []
        with self._lock:
            for update in updates:
                body = {k: v for k, v in update.items() if k != "update_id"}
                ids.append(next(self._update_ids))
                self._updates.append({"update_id": ids[-1], **_copy(body)})
            self._changed.notify_all()
        self._call_in_loop(self._wake_pollers)
        return ids

    def user_message(
        self,
        user: FakeUser,
        *,
        chat: Chat | None = None,
        reply_to: dict[str, Any] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """Record a message from `user` in `chat` (their private chat by default) and return it."""
        target = chat or user
        with self._lock:
            if target.id not in self._chats:
                raise KeyError(f"unknown chat {target.id}")
            message: dict[str, Any] = {
                "message_id": self._next_message_id(target.id),
                "from": user.as_dict(),
                "chat": target.private_chat() if isinstance(target, FakeUser) else target.as_dict(),
                "date": int(time.time()),
                **content,
            }
            if reply_to is not None:
                message["reply_to_message"] = _without_reply(reply_to)
            self._messages[(target.id, message["message_id"])] = message
            return _copy(message)

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: Chat | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message; a leading /command and @mentions get their entities."""
        content: dict[str, Any] = {"text": text}
        entities = _entities(text)
        if entities:
            content["entities"] = entities
        message = self.user_message(user, chat=chat, reply_to=reply_to, **content)
        self.push_update({"message": message})
        return message

    def send_photo(
        self,
        user: FakeUser,
        image: bytes | Image.Image,
        *,
        caption: str | None = None,
        chat: Chat | None = None,
        reply_to: dict[str, Any] | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """A photo, as Telegram delivers it: several PhotoSize entries, largest last."""
        content: dict[str, Any] = {"photo": self.photo_sizes(image)}
        if caption is not None:
            content["caption"] = caption
            entities = _entities(caption)
            if entities:
                content["caption_entities"] = entities
        if media_group_id is not None:
            content["media_group_id"] = media_group_id
        message = self.user_message(user, chat=chat, reply_to=reply_to, **content)
        self.push_update({"message": message})
        return message

    def send_raw_photo(
        self, user: FakeUser, data: bytes, *, width: int = 640, height: int = 480
    ) -> dict[str, Any]:
        """A photo whose one size is `data` as it is, unchecked (as a broken client or a bug of
        Telegram's would deliver it)."""
        file_id = self.put_file(data, extension="jpg")
        with self._lock:
            stored = self._files[file_id]
        size = {"file_id": file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(data), "width": width, "height": height}  # fmt: skip
        message = self.user_message(user, photo=[size])
        self.push_update({"message": message})
        return message

    def send_album(
        self, user: FakeUser, images: Iterable[bytes | Image.Image], *, chat: Chat | None = None
    ) -> list[dict[str, Any]]:
        """A media group: one update per photo, sharing a media_group_id."""
        group_id = f"1337{next(self._ids):010d}"
        return [
            self.send_photo(user, image, chat=chat, media_group_id=group_id) for image in images
        ]

    def send_document(
        self,
        user: FakeUser,
        data: bytes,
        *,
        file_name: str,
        mime_type: str | None,
        file_size: int | None = None,
        caption: str | None = None,
        chat: Chat | None = None,
    ) -> dict[str, Any]:
        """A file sent as a document; `file_size` may claim more than `data` holds."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        file_id = self.put_file(data, file_size=file_size, extension=extension)
        stored = self._files[file_id]
        document: dict[str, Any] = {
            "file_name": file_name,
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        content: dict[str, Any] = {"document": document}
        if caption is not None:
            content["caption"] = caption
        message = self.user_message(user, chat=chat, **content)
        self.push_update({"message": message})
        return message

    def press_button(
        self,
        user: FakeUser,
        message: dict[str, Any] | Call,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> str:
        """Press an inline button of a bot message (by its label or callback data, as it is now);
        returns the callback query's id."""
        update = self.button_press(user, message, text=text, data=data)
        self.push_update(update)
        return str(update["callback_query"]["id"])

    def button_press(
        self,
        user: FakeUser,
        message: dict[str, Any] | Call,
        *,
        text: str | None = None,
        data: str | None = None,
    ) -> dict[str, Any]:
        """The update of a press on an inline button of a bot message, not yet delivered."""
        if isinstance(message, Call):
            if message.message_id is None or message.result is None:
                raise ValueError(f"call {message.describe()} did not send a message")
            chat_id, message_id = int(message.result["chat"]["id"]), message.message_id
        else:
            chat_id, message_id = int(message["chat"]["id"]), int(message["message_id"])
        with self._lock:
            current = self._messages.get((chat_id, message_id))
            if current is None:
                raise KeyError(f"message {message_id} in chat {chat_id} is gone")
            buttons = [
                b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ]
            chosen = [
                b
                for b in buttons
                if (text is None or b.get("text") == text)
                and (data is None or b.get("callback_data") == data)
            ]
            if len(chosen) != 1 or "callback_data" not in chosen[0]:
                raise LookupError(f"no single callback button {text=} {data=} among {buttons}")
            query_id = f"{next(self._ids)}{user.id}"
            self._callback_queries[query_id] = False
            update = {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": current,
                    "chat_instance": f"-{abs(chat_id)}77",
                    "data": chosen[0]["callback_data"],
                }
            }
        return update

    def old_button_press(self, user: FakeUser, chat: Chat, data: str) -> dict[str, Any]:
        """The update of a press on a button with `data` under a message the bot can no longer
        see (deleted, or over 48 hours old: Telegram sends it as an inaccessible message, date
        0), not yet delivered."""
        with self._lock:
            query_id = f"{next(self._ids)}{user.id}"
            self._callback_queries[query_id] = False
            message_id = next(self._ids)
        chat_dict = chat.private_chat() if isinstance(chat, FakeUser) else chat.as_dict()
        return {
            "callback_query": {
                "id": query_id,
                "from": user.as_dict(),
                "message": {"chat": chat_dict, "message_id": message_id, "date": 0},
                "chat_instance": f"-{abs(chat.id)}77",
                "data": data,
            }
        }

    def send_inline_query(self, user: FakeUser, query: str, *, offset: str = "") -> str:
        """An inline query `@bot query` typed by `user`; returns its id."""
        update = self.inline_query(user, query, offset=offset)
        self.push_update(update)
        return str(update["inline_query"]["id"])

    def inline_query(self, user: FakeUser, query: str, *, offset: str = "") -> dict[str, Any]:
        """The update of an inline query `@bot query` typed by `user`, not yet delivered."""
        with self._lock:
            query_id = f"{next(self._ids)}{user.id}9"
            self._inline_queries[query_id] = False
        return {
            "inline_query": {
                "id": query_id,
                "from": user.as_dict(),
                "query": query,
                "offset": offset,
                "chat_type": "sender",
            }
        }

    # ----------------------------------------------------------------------------------------
    # Test API: faults

    def fail_next(
        self,
        method: str,
        code: int = 429,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (to `chat_id`, if given) fail with `code`."""
        if code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                403: "Forbidden: bot was blocked by the user",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(code, "Injected failure")
        with self._lock:
            error = ApiError(code, description, retry_after if code == 429 else None)
            self._failures.append(_Failure(method.lower(), error, times, chat_id))

    def start_outage(self, code: int = 502, description: str = "Bad Gateway") -> None:
        """Every method but getUpdates, and every download, fails with `code` until
        `end_outage` (as when Telegram's front end is up and the Bot API behind it is not)."""
        with self._lock:
            self._outage = ApiError(code, description)

    def limit_groups(self, per_minute: int) -> None:
        """Sends into a group beyond `per_minute` in any minute fail with 429, as Telegram's do."""
        with self._lock:
            self._group_limit = per_minute

    def _over_group_limit(self, key: str, params: dict[str, Any]) -> ApiError | None:
        if self._group_limit is None or not sends_message(key):
            return None
        try:
            chat_id = int(params.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        if chat_id >= 0:
            return None
        now = time.monotonic()
        sent = [t for t in self._group_sends.get(chat_id, []) if now - t < 60]
        if len(sent) >= self._group_limit:
            wait = max(1, int(sent[0] + 60 - now) + 1)
            return ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._group_sends[chat_id] = [*sent, now]
        return None

    def end_outage(self) -> None:
        with self._lock:
            self._outage = None

    def slow_download(self, file_id: str, seconds: float) -> None:
        """The file's download trickles its bytes out over `seconds`."""
        with self._lock:
            self._slow_files[file_id] = seconds

    def stall_download(self, file_id: str, seconds: float) -> None:
        """The file's download answers nothing for `seconds`, then sends it all at once (a
        server that pauses, rather than trickles)."""
        with self._lock:
            self._stalled_files[file_id] = seconds

    def hold(self, method: str) -> None:
        """Keep requests of `method` waiting until `release`; requests whose client went away
        meanwhile are dropped unanswered and unrecorded, as if they never reached Telegram."""
        with self._lock:
            self._held.setdefault(method.lower(), asyncio.Event())

    def release(self, method: str) -> None:
        with self._lock:
            gate = self._held.pop(method.lower(), None)
        if gate is not None:
            self._call_in_loop(gate.set)

    def held(self, method: str) -> int:
        """How many requests of `method` are waiting at its hold now."""
        with self._lock:
            return self._waiting.get(method.lower(), 0)

    def wait_state(
        self, condition: Callable[[], bool], what: str, *, timeout: float = 60.0
    ) -> None:
        """Wait until `condition()` (read under the server's lock) holds; it is re-checked
        whenever the server records something."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise AssertionError(f"waited {timeout:.0f} s for {what}")

    def clear_faults(self) -> None:
        with self._lock:
            self._failures.clear()
            self._outage = None
            self._slow_files.clear()
            self._stalled_files.clear()
            held = list(self._held)
        for method in held:
            self.release(method)

    # ----------------------------------------------------------------------------------------
    # Test API: observing the bot

    def calls(self, method: str | None = None, *, chat_id: int | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls_log
                if (method is None or c.method.lower() == method.lower())
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def messages(self, chat_id: int | None = None) -> list[Call]:
        """Successful send calls (sendMessage, sendPhoto, ...), optionally to one chat."""
        with self._lock:
            return [
                c
                for c in self.calls_log
                if c.ok
                and c.method.lower() in SEND_METHODS
                and (chat_id is None or c.chat_id == chat_id)
            ]

    def replies_to(self, message: dict[str, Any]) -> list[Call]:
        """Successful sends into the message's chat that reply to it."""
        with self._lock:
            return list(self._replies.get(_reply_key(message), []))

    def wait_for_calls(
        self, predicate: Callable[[Call], bool], *, count: int = 1, timeout: float = 60.0
    ) -> list[Call]:
        """Wait until at least `count` recorded calls satisfy `predicate`; return them all."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls_log if predicate(c)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    recent = "\n".join(c.describe() for c in self.calls_log[-25:])
                    raise AssertionError(
                        f"waited {timeout:.0f} s for {count} matching call(s), saw {len(found)}; "
                        f"the last calls were:\n{recent}"
                    )
                self._changed.wait(left)

    def wait_for_messages(
        self, predicate: Callable[[Call], bool], *, count: int = 1, timeout: float = 60.0
    ) -> list[Call]:
        """As wait_for_calls, over the successful sends only."""
        return self.wait_for_calls(
            lambda c: c.ok and c.method.lower() in SEND_METHODS and predicate(c),
            count=count,
            timeout=timeout,
        )

    def wait_reply(self, message: dict[str, Any], *, timeout: float = 60.0) -> Call:
        """The first successful send that replies to `message` (looked up by key, not by a scan
        of every call: the load test has many users waiting at once)."""
        key = _reply_key(message)
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._replies.get(key):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no reply to message {key[1]} in chat {key[0]}")
                self._changed.wait(left)
            return self._replies[key][0]

    def wait_message(
        self,
        chat: Chat | int,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 60.0,
    ) -> Call:
        """The first successful send into `chat` that satisfies `predicate`."""
        chat_id = _id(chat)
        return self.wait_for_messages(
            lambda c: c.chat_id == chat_id and (predicate is None or predicate(c)), timeout=timeout
        )[0]

    def wait_polling(self, *, since: float | None = None, timeout: float = 60.0) -> None:
        """Wait until the bot long-polls getUpdates (a request begun after `since`, if given)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(since is None or t > since for t in self._poll_starts):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the bot did not poll getUpdates within {timeout:.0f} s")
                self._changed.wait(left)

    def wait_confirmed(self, update_id: int, *, timeout: float = 60.0) -> None:
        """Wait until the bot confirmed `update_id` (asked getUpdates for a later offset)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._confirmed_below <= update_id:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"update {update_id} was not confirmed within {timeout:.0f} s"
                    )
                self._changed.wait(left)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot."""
        with self._lock:
            return list(self._updates)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message as it is now (after edits), or None if deleted or unknown."""
        with self._lock:
            found = self._messages.get((chat_id, message_id))
            return _copy(found) if found is not None else None

    def commands(self, *, scope: str = "default", language_code: str = "") -> list[dict[str, Any]]:
        """The command list registered with setMyCommands for that scope and language."""
        with self._lock:
            return list(self._commands.get((scope, language_code), []))

    @property
    def webhook(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    # ----------------------------------------------------------------------------------------
    # HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        key = method.lower()
        try:
            params, files = await _read_params(request)
        except ValueError as exc:
            return _error_response(bad_request(str(exc)))
        if key == "getupdates":
            try:
                updates = await self._get_updates(params)
            except ApiError as exc:
                return _error_response(exc)
            return web.json_response({"ok": True, "result": updates})
        if not hasattr(self, f"_m_{key}"):
            return web.json_response(NOT_FOUND, status=404)
        with self._lock:
            gate = self._held.get(key)
        if gate is not None:
            with self._lock:
                self._waiting[key] = self._waiting.get(key, 0) + 1
                self._changed.notify_all()
            try:
                await gate.wait()
            finally:
                with self._lock:
                    self._waiting[key] -= 1
            if request.transport is None or request.transport.is_closing():
                log.info("dropping held %s: the client went away", method)
                with self._lock:
                    self.dropped_calls.append(Call(method, params, files))
                    self._changed.notify_all()
                return web.json_response({"ok": False, "error_code": 499, "description": "gone"})
        status, body = self.answer(method, params, files)
        return web.json_response(body, status=status)

    def answer(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any]]:
        """One call of a Bot API method (any but getUpdates), recorded and answered as Telegram
        would, failures injected included: the HTTP status and the JSON body. The HTTP server
        answers with it, and so can a request object of python-telegram-bot's in the same
        process (the tests' in-process Application)."""
        key = method.lower()
        handler = getattr(self, f"_m_{key}", None)
        if handler is None:
            return 404, NOT_FOUND
        with self._lock:
            call = Call(method, params, files)
            failure = (
                self._outage
                or self._take_failure(key, params)
                or self._over_group_limit(key, params)
            )
            try:
                if failure is not None:
                    raise failure
                call.result = handler(params, files)
            except ApiError as exc:
                call.error = exc.body()
            self.calls_log.append(call)
            if call.ok and call.method.lower() in SEND_METHODS and call.reply_to is not None:
                self._replies.setdefault((call.chat_id, call.reply_to), []).append(call)
            self._changed.notify_all()
        if call.error is not None:
            return int(call.error["error_code"]), call.error
        return 200, {"ok": True, "result": call.result}

    def file_data(self, path: str) -> bytes | None:
        """The bytes of a file by its download path (None: no such file), counted as a
        download; a Telegram outage fails it with ApiError."""
        with self._lock:
            stored = self._paths.get(path)
            if stored is None:
                return None
            if self._outage is not None:
                raise self._outage
            self.downloads.append(stored.file_id)
            self._changed.notify_all()
            return stored.data

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        try:
            data = self.file_data(path)
        except ApiError as exc:
            return _error_response(exc)
        if data is None:
            return web.json_response(NOT_FOUND, status=404)
        with self._lock:
            slow = self._slow_files.get(self._paths[path].file_id)
            stall = self._stalled_files.get(self._paths[path].file_id)
        if stall is not None:
            await asyncio.sleep(stall)
        if slow is None:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = len(data)
        await response.prepare(request)
        pieces = 20
        step = max(1, -(-len(data) // pieces))
        with contextlib.suppress(ConnectionResetError):  # the bot gave up waiting
            for start in range(0, len(data), step):
                await asyncio.sleep(slow / pieces)
                await response.write(data[start : start + step])
            await response.write_eof()
        return response

    def _take_failure(self, key: str, params: dict[str, Any]) -> ApiError | None:
        for failure in self._failures:
            if failure.method == key and failure.chat_id in (None, params.get("chat_id")):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure.error
        return None

    # ----------------------------------------------------------------------------------------
    # getUpdates and webhooks

    def _wake_pollers(self) -> None:
        with self._lock:
            for poller in self._pollers:
                poller.wake.set()

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates or [])
        out: list[dict[str, Any]] = []
        for update in list(self._updates):
            kind = next(k for k in update if k != "update_id")
            wanted = kind in allowed if allowed else kind not in NOT_DELIVERED_BY_DEFAULT
            if not wanted:
                self._updates.remove(update)
                self.dropped_updates.append(update)
                continue
            out.append(update)
            if len(out) >= limit:
                break
        return out

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._confirmed_below = max(self._confirmed_below, offset)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._stopping is not None
        timeout = float(params.get("timeout") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        poller = _Poller(time.monotonic(), asyncio.Event())
        with self._lock:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            for older in self._pollers:
                older.superseded = True
                older.wake.set()
            self._pollers.append(poller)
            self._poll_starts.append(poller.started)
            if params.get("offset") is not None:
                self._confirm(int(params["offset"]))
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self._changed.notify_all()
        deadline = poller.started + timeout
        try:
            while True:
                with self._lock:
                    if poller.superseded:
                        raise ApiError(
                            409,
                            "Conflict: terminated by other getUpdates request; make sure that "
                            "only one bot instance is running",
                        )
                    updates = self._deliverable(limit)
                    poller.wake.clear()
                left = deadline - time.monotonic()
                if updates or left <= 0 or self._stopping.is_set():
                    return _copy(updates)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poller.wake.wait(), left)
        finally:
            with self._lock:
                self._pollers.remove(poller)

    async def _deliver_webhook(self) -> None:
        """Post queued updates to the webhook one by one, as Telegram does, until it is removed."""
        assert self._stopping is not None
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while not self._stopping.is_set():
                with self._lock:
                    hook = self._webhook
                    updates = self._deliverable(1) if hook else []
                if hook is None:
                    return
                if not updates:
                    await asyncio.sleep(0.05)
                    continue
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                try:
                    async with session.post(hook["url"], json=updates[0], headers=headers) as r:
                        delivered = r.status == 200
                except OSError:
                    delivered = False
                with self._lock:
                    if delivered:
                        self._confirm(updates[0]["update_id"] + 1)
                    hook["last_error"] = None if delivered else time.time()
                    self._changed.notify_all()
                if not delivered:
                    await asyncio.sleep(0.5)

    # ----------------------------------------------------------------------------------------
    # Bot API methods: each takes (params, files), runs under the lock, raises ApiError

    def _m_getme(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {
            **self.bot_user.as_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self.dropped_updates.extend(self._updates)
            self._updates = []
        return True

    def _m_setwebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        url = str(params.get("url", ""))
        if not url:
            return self._m_deletewebhook(params, files)
        if not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self.dropped_updates.extend(self._updates)
            self._updates = []
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        had_hook = self._webhook is not None
        self._webhook = {"url": url, "secret_token": params.get("secret_token"), "last_error": None}
        if not had_hook:
            assert self._loop is not None
            self._webhook_task = self._loop.create_task(self._deliver_webhook())
        return True

    def _m_setmycommands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request('field "commands" must be an Array')
        for command in commands:
            name = str(command.get("command", ""))
            valid = all(c.islower() or c.isdigit() or c == "_" for c in name)
            if not (1 <= len(name) <= 32) or not valid:
                raise bad_request("BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope(params), str(params.get("language_code") or ""))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _m_sendchataction(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _m_sendmessage(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        text = str(params.get("text") or "")
        shown = self._plain(text, params.get("parse_mode"))
        if not shown.strip():
            raise bad_request("message text is empty")
        if len(shown) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        content: dict[str, Any] = {"text": shown}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._bot_message(params, content)

    def _m_sendphoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        content = {"photo": self._input_photo(params.get("photo"), files)}
        content.update(self._caption(params))
        return self._bot_message(params, content)

    def _m_getfile(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        shown = self._plain(str(params.get("text") or ""), params.get("parse_mode"))
        if not shown.strip():
            raise bad_request("message text is empty")
        if len(shown) > MAX_TEXT_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        return self._apply_edit(message, {"text": shown}, params.get("reply_markup"))

    def _m_editmessagereplymarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._editable(params)
        return self._apply_edit(message, {}, params.get("reply_markup"))

    def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self._callback_queries.get(query_id) is not False:
            raise bad_request(QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        return True

    def _m_answerinlinequery(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        query_id = str(params.get("inline_query_id"))
        if self._inline_queries.get(query_id) is not False:
            raise bad_request(QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(0 < len(i.encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        for result in results:
            cached = result.get("photo_file_id")
            if result.get("type") == "photo" and cached is not None and cached not in self._files:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if "caption" in result:
                self._plain(str(result["caption"]), result.get("parse_mode"))
        if len(str(params.get("next_offset") or "").encode()) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        self._inline_queries[query_id] = True
        return True

    def _m_getchatmember(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = int(params.get("user_id") or 0)
        if isinstance(chat, FakeUser):
            if user_id not in (chat.id, self.bot_user.id):
                raise bad_request("member not found")
            status = "member"
        else:
            status = self._members.get((chat.id, user_id), "left")
        return self._member(user_id, status)

    # ----------------------------------------------------------------------------------------
    # Helpers for the methods (called under the lock)

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _chat(self, params: dict[str, Any]) -> Chat:
        raw = params.get("chat_id")
        try:
            chat = self._chats.get(int(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            chat = None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _plain(self, text: str, parse_mode: Any) -> str:
        try:
            return plain_text(text, str(parse_mode) if parse_mode else None)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if caption is None:
            return {}
        shown = self._plain(str(caption), params.get("parse_mode"))
        if len(shown) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return {"caption": shown} if shown else {}

    def _upload(self, ref: Any, files: dict[str, bytes]) -> bytes | str:
        """The bytes of an uploaded file, or the file_id it refers to."""
        if isinstance(ref, str) and ref.startswith("attach://"):
            name = ref.removeprefix("attach://")
            if name not in files:
                raise bad_request(f"wrong file identifier/HTTP URL specified: no {name} part")
            return files[name]
        if isinstance(ref, bytes):
            return ref
        if isinstance(ref, str) and ref in self._files:
            return ref
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _input_photo(self, ref: Any, files: dict[str, bytes]) -> list[dict[str, Any]]:
        data = self._upload(ref, files)
        if isinstance(data, str):
            data = self._files[data].data
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                return self.photo_sizes(img)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise bad_request("IMAGE_PROCESS_FAILED") from exc

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                raise bad_request("replies to other chats are not supported by this test server")
        else:
            message_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = self._messages.get((chat_id, int(message_id)))
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is None:
            return None  # reply keyboards and ForceReply are not part of the returned message
        if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
            raise bad_request('field "inline_keyboard" must be an Array of Arrays')
        for row in keyboard:
            for button in row:
                if not str(button.get("text", "")):
                    raise bad_request("BUTTON_TEXT_EMPTY")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                kinds = {"callback_data", "url", "switch_inline_query",
                         "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                         "copy_text", "login_url", "web_app", "pay", "callback_game"}  # fmt: skip
                if not kinds & button.keys():
                    raise bad_request('can\'t find field "callback_data" in the button')
        return {"inline_keyboard": keyboard}

    def _bot_message(self, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if isinstance(chat, FakeGroup) and self._members.get((chat.id, self.bot_user.id)) in (
            "left",
            "kicked",
        ):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        reply = self._reply_target(chat.id, params)
        markup = self._markup(params.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat.id),
            "from": self.bot_user.as_dict(),
            "chat": chat.private_chat() if isinstance(chat, FakeUser) else chat.as_dict(),
            "date": int(time.time()),
            **content,
        }
        if reply is not None:
            message["reply_to_message"] = _without_reply(reply)
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat.id, message["message_id"])] = message
        return _copy(message)

    def _editable(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by this test server")
        chat = self._chat(params)
        message = self._messages.get((chat.id, int(params.get("message_id") or 0)))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user.id:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self, message: dict[str, Any], content: dict[str, Any], raw_markup: Any
    ) -> dict[str, Any]:
        markup = self._markup(raw_markup)
        before = (
            {k: message.get(k) for k in content},
            message.get("reply_markup"),
        )
        if before == (content, markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(content)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return _copy(message)

    def _member(self, user_id: int, status: str) -> dict[str, Any]:
        user = self._chats.get(user_id)
        if user_id == self.bot_user.id:
            user_dict = self.bot_user.as_dict()
        elif isinstance(user, FakeUser):
            user_dict = user.as_dict()
        else:
            user_dict = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        member: dict[str, Any] = {"status": status, "user": user_dict}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update({"can_be_edited": False, "is_anonymous": False})
            member.update(dict.fromkeys(ADMIN_RIGHTS, True))
        elif status == "kicked":
            member["until_date"] = 0
        return member


# --------------------------------------------------------------------------------------------
# Module helpers


def _id(obj: Chat | int) -> int:
    return obj if isinstance(obj, int) else obj.id


def _scope(params: dict[str, Any]) -> str:
    scope = params.get("scope")
    return str(scope.get("type", "default")) if isinstance(scope, dict) else "default"


def _reply_key(message: dict[str, Any]) -> tuple[int, int]:
    return int(message["chat"]["id"]), int(message["message_id"])


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, with Telegram's UTF-16 offsets."""
    entities: list[dict[str, Any]] = []
    pos = 0
    for word in text.split(" "):
        stripped = word.split("\n", 1)[0]
        if stripped.startswith("/") and len(stripped) > 1 and pos == 0:
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(stripped)})
        elif stripped.startswith("@") and len(stripped) > 1:
            offset = _utf16_len(text[:pos])
            entities.append({"type": "mention", "offset": offset, "length": _utf16_len(stripped)})
        pos += len(word) + 1
    return entities


def _copy(value: _T) -> _T:
    """A deep copy through JSON, so callers never share the server's state."""
    return cast(_T, json.loads(json.dumps(value)))


def form_params(fields: dict[str, str], files: dict[str, bytes]) -> dict[str, Any]:
    """A method's parameters from its form fields (JSON values decoded, as Telegram does) and
    uploaded files."""
    params: dict[str, Any] = {key: _decode_value(key, value) for key, value in fields.items()}
    for key, data in files.items():
        params.setdefault(key, data)
    return params


def _decode_value(key: str, value: str) -> Any:
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in request.query.items()}
    files: dict[str, bytes] = {}
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    params[key] = _decode_value(key, str(value))
    for key, data in files.items():
        params.setdefault(key, data)
    return params, files


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.code)
