"""A local, in-process imitation of the Telegram Bot API.

The real bot code (python-telegram-bot's ``Application``/``Bot``) talks to this server over real HTTP
via ``base_url``, so tests, the demo and load benchmarks exercise the exact same code path as
production - request encoding, error mapping, retries, polling and webhooks - without a network or
a Telegram account.  The "user side" (``send_text``, ``press``, the ``/user/...`` routes) plays the
person chatting with the bot.

Fidelity choices worth knowing:

* Error texts are Telegram's real ones, because bot code and PTB branch on them
  ("message is not modified", "query is too old ...", ``retry_after``...).
* ``parse_mode="HTML"`` is parsed like Telegram does: stored/returned text is the plain text
  (tags removed, entities decoded, surrounding whitespace stripped) and unsupported or unbalanced
  tags fail with "can't parse entities" - an unescaped ``<`` from user input is a real production
  bug worth catching here.  Markdown modes are passed through unparsed.
* Updates that are re-delivered with :meth:`BotApiEmulator.redeliver` survive ``offset``
  confirmation until they have been handed out once, so duplicate-delivery handling can be tested.
* Files work like Telegram's: ``getFile`` gives a ``file_path`` (refusing files over 20 MB with
  "file is too big") and the bytes come from ``/file/bot<token>/<file_path>``, so PTB's
  ``(await bot.get_file(file_id)).download_as_bytearray()`` works when the bot is built with
  :attr:`BotApiEmulator.base_file_url`.  Files the user sends (:meth:`BotApiEmulator.send_document`)
  and files the bot sent are both fetchable; the placeholder media of ``send_media`` download as
  zero bytes of their declared size.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import importlib.resources
import itertools
import json
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, cast

import httpx
import tornado.http1connection
import tornado.httpserver
import tornado.netutil
import tornado.web

__all__ = ["BotAction", "BotApiEmulator", "EmulatorError", "SentMessage"]

_LOG = logging.getLogger(__name__)
E = TypeVar("E")
K = TypeVar("K")

MAX_TEXT_UTF16 = 4096
MAX_CAPTION_UTF16 = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_USER_WAIT = 30.0
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
_WEBHOOK_ATTEMPTS = 4
_WEBHOOK_BACKOFF = 0.05

MediaKind = Literal["voice", "sticker", "photo", "document", "location"]
_MEDIA_KINDS: frozenset[str] = frozenset({"voice", "sticker", "photo", "document", "location"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_FILE_FOLDERS = {
    "document": "documents",
    "photo": "photos",
    "voice": "voice",
    "sticker": "stickers",
}
_FILE_EXTENSIONS = {"photo": ".jpg", "voice": ".oga", "sticker": ".webp"}
# Explicit for the files officers actually upload, so the guess does not depend on the host's mime.types.
_MIME_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
}
_DEFAULT_ERROR_TEXT = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: _POLL_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
}


# --------------------------------------------------------------------------------------------------
# Public snapshot types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Snapshot of one bot message as the user currently sees it (edits applied)."""

    message_id: int
    chat_id: int
    kind: Literal["text", "photo", "document"]
    text: str | None
    buttons: list[list[tuple[str, str]]]
    file_name: str | None = None
    file_bytes: bytes | None = None
    edits: int = 0

    def button_labels(self) -> list[str]:
        """Flat list of labels, handy for assertion messages."""
        return [label for row in self.buttons for label, _ in row]


@dataclass(frozen=True, slots=True)
class BotAction:
    """One bot call that changed what the user sees; ``seq`` is per chat and starts at 1.

    ``at`` is a ``time.monotonic()`` stamp so benchmarks can measure reply latency.
    """

    seq: int
    chat_id: int
    kind: Literal["send", "edit", "answer", "delete"]
    method: str
    message_id: int | None
    text: str | None
    buttons: list[list[tuple[str, str]]]
    at: float = 0.0


class EmulatorError(Exception):
    """A Bot API error response; carries Telegram's status code, description and parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad(text: str) -> EmulatorError:
    return EmulatorError(400, f"Bad Request: {text}")


# --------------------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------------------


class _Signal:
    """Broadcast wake-up: waiters grab ``event`` before checking their condition, notify swaps it.

    A fresh Event per generation means a sync caller (``send_text``) can wake every async waiter
    without a lock, and nobody misses a notification that happens between check and wait.
    """

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    @property
    def event(self) -> asyncio.Event:
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


async def _wait_any(events: Iterable[asyncio.Event], seconds: float) -> None:
    """Return when any event is set or ``seconds`` elapse (whichever first); never raises."""
    evs = list(events)
    if seconds <= 0 or any(e.is_set() for e in evs):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in evs]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


@dataclass(slots=True)
class _Msg:
    message_id: int
    kind: Literal["text", "photo", "document"]
    date: int
    text: str | None
    entities: list[dict[str, Any]]
    markup: dict[str, Any] | None
    buttons: list[list[tuple[str, str]]]
    file_id: str | None = None
    file_name: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    edits: int = 0
    edit_date: int | None = None


@dataclass(slots=True)
class _Chat:
    chat_id: int
    first_name: str
    next_message_id: int = 1
    messages: dict[int, _Msg] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    actions: list[BotAction] = field(default_factory=list)

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(slots=True)
class _Pending:
    update: dict[str, Any]
    forced: bool = False  # re-delivered on purpose: survives offset confirmation until handed out
    delivered: bool = False


@dataclass(slots=True)
class _Injected:
    status: int
    description: str
    parameters: dict[str, Any] | None
    remaining: int
    chat_id: int | None


@dataclass(slots=True)
class _StoredFile:
    data: bytes | None  # None: content not emulated (sent by URL, or a ``send_media`` placeholder)
    file_name: str | None
    mime_type: str | None
    kind: str = "document"
    declared_size: int = 0  # the size reported when ``data`` is None
    unique_id: str | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.declared_size

    def content(self) -> bytes:
        return self.data if self.data is not None else bytes(self.declared_size)


def _take_fault(faults: dict[str, list[_Injected]], method: str, params: _Params) -> _Injected | None:
    """The next injected fault for this call (any chat, or the call's chat), counted down; None if none."""
    queue = faults.get(method)
    if not queue:
        return None
    try:
        chat_id = params.integer("chat_id")
    except EmulatorError:
        chat_id = None
    for item in queue:
        if item.chat_id is None or item.chat_id == chat_id:
            item.remaining -= 1
            if item.remaining <= 0:
                queue.remove(item)
            return item
    return None


def _guess_mime(file_name: str) -> str:
    dot = file_name.rfind(".")
    ext = file_name[dot:].lower() if dot > 0 else ""
    return _MIME_TYPES.get(ext) or mimetypes.guess_type(file_name)[0] or "application/octet-stream"


# --------------------------------------------------------------------------------------------------
# Parameter parsing (PTB sends application/x-www-form-urlencoded, or multipart/form-data with files;
# every value is a string and complex ones are JSON-encoded strings)
# --------------------------------------------------------------------------------------------------


class _Params:
    """Typed access to request parameters regardless of how they were encoded."""

    def __init__(self, values: dict[str, Any], files: dict[str, tuple[str, bytes, str]]) -> None:
        self.values = values
        self.files = files

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise _bad(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes"}
        return bool(value)

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise _bad("can't parse reply keyboard markup JSON object") from None
                raise _bad(f"can't parse {name} JSON object") from None
        return value


def _u16(text: str) -> int:
    """Length in UTF-16 code units, which is how Telegram measures text and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------------
# Telegram-style HTML parsing
# --------------------------------------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"""([a-zA-Z_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ENTITY_RE = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn Telegram HTML into (plain text, entities) or fail the way Telegram does."""
    out: list[str] = []
    pos = 0  # UTF-16 offset into the plain text
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode())

    while i < len(source):
        char = source[i]
        if char == "<":
            end = source.find(">", i)
            if end < 0:
                raise _bad(f"can't parse entities: Unclosed start tag at byte offset {byte_offset(i)}")
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _bad(f"can't parse entities: Unexpected end tag at byte offset {byte_offset(i)}")
                tag, start, attrs = stack.pop()
                if name and name != tag:
                    raise _bad(
                        f"can't parse entities: Unmatched end tag at byte offset {byte_offset(i)}, "
                        f'expected "</{tag}>", found "</{name}>"'
                    )
                entity = _html_entity(tag, start, pos - start, attrs)
                if entity is not None:
                    entities.append(entity)
            else:
                match = _TAG_NAME_RE.match(inner)
                name = match.group(0).lower() if match else ""
                if name not in _HTML_TAGS:
                    raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
                attrs = {
                    key.lower(): html.unescape(a or b or c) for key, a, b, c in _ATTR_RE.findall(inner[len(name) :])
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _bad(
                        f'can\'t parse entities: Tag "span" must have class "tg-spoiler" '
                        f"at byte offset {byte_offset(i)}"
                    )
                stack.append((name, pos, attrs))
            i = end + 1
        elif char == "&":
            match = _ENTITY_RE.match(source, i)
            value = "&"
            if match:
                ref = match.group(1)
                try:
                    if ref.startswith(("#x", "#X")):
                        value = chr(int(ref[2:], 16))
                    elif ref.startswith("#"):
                        value = chr(int(ref[1:]))
                    else:
                        value = _NAMED_ENTITIES[ref]
                    i = match.end()
                except (ValueError, OverflowError):
                    value, i = "&", i + 1
            else:
                i += 1
            out.append(value)
            pos += _u16(value)
        else:
            stops = [p for p in (source.find("<", i), source.find("&", i)) if p >= 0]
            stop = min(stops) if stops else len(source)
            chunk = source[i:stop]
            out.append(chunk)
            pos += _u16(chunk)
            i = stop
    if stack:
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(tag: str, offset: int, length: int, attrs: dict[str, str]) -> dict[str, Any] | None:
    if length <= 0:
        return None
    kind = _HTML_TAGS[tag]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        href = attrs.get("href", "")
        if href.startswith("tg://user?id="):
            return None  # text_mention needs a User object; not worth emulating
        if not href:
            return None
        entity["url"] = href
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "0")
    return entity


def _strip_with_entities(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram and shift/clip entity ranges accordingly."""
    stripped = text.strip()
    if not entities:
        return stripped, []
    shift = _u16(text[: len(text) - len(text.lstrip())])
    total = _u16(stripped)
    result: list[dict[str, Any]] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] - shift + entity["length"])
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width/height for PNG, a plausible default for other known image formats, None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data.startswith((b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return 800, 600
    return None


def _button_data(button: dict[str, Any]) -> str:
    """Normalise any inline button into the single string tests match on."""
    if "callback_data" in button:
        return str(button["callback_data"])
    if "url" in button:
        return f"url:{button['url']}"
    for key, value in button.items():
        if key != "text":
            if isinstance(value, dict):
                inner = value.get("url") or value.get("text") or json.dumps(value, ensure_ascii=False)
                return f"{key}:{inner}"
            return f"{key}:{value}"
    return ""


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------

_Handler = Callable[[_Params, asyncio.Event], Awaitable[Any]]


class EmulatorLifecycle(Generic[K]):
    """What both emulators (this one and the Zalo one) do the same way: per-chat wake-ups, counting
    requests in flight, and a stop that releases long polls, cancels webhook delivery, lets requests in
    flight answer (up to 2 s), then closes the server and the HTTP client."""

    def __init__(self) -> None:
        self._signals: dict[K, _Signal] = {}
        self._inbox = _Signal()  # new update, new getUpdates call, webhook change or stop
        self._stopping = asyncio.Event()
        self._busy = 0  # requests being handled; stop() lets them answer before closing sockets
        self._idle = _Signal()
        self._webhook_task: asyncio.Task[None] | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._client: httpx.AsyncClient | None = None

    @contextlib.contextmanager
    def _serving(self) -> Iterator[None]:
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1
            self._idle.notify()

    def _signal(self, chat_id: K) -> _Signal:
        signal = self._signals.get(chat_id)
        if signal is None:
            signal = self._signals[chat_id] = _Signal()
        return signal

    async def _cancel_webhook_task(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Release long polls, stop webhook delivery, close the server (if any) and the HTTP client."""
        self._stopping.set()
        self._inbox.notify()
        for signal in self._signals.values():
            signal.notify()
        await self._cancel_webhook_task()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while self._busy and loop.time() < deadline:
            await _wait_any([self._idle.event], deadline - loop.time())
        server, self._server = self._server, None  # detach first: stop() may be called concurrently
        if server is not None:
            server.stop()
            await server.close_all_connections()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class BotApiEmulator(EmulatorLifecycle[int]):
    """Bot API server plus simulated users; see the module docstring for the fidelity contract."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "dvc_assistant_bot",
        bot_name: str = "Trợ lý DVC",
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.bot_name = bot_name
        super().__init__()
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1

        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_errors: list[str] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.stats: dict[str, int] = {}

        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._chats: dict[int, _Chat] = {}
        self._pending: list[_Pending] = []
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, str] = {}  # file_id -> file_path handed out by getFile
        self._path_files: dict[str, str] = {}  # file_path -> file_id, for the download route
        self._path_numbers = itertools.count(1)
        self._callbacks: dict[str, tuple[int, int]] = {}  # open callback id -> (chat, message)
        self._injected: dict[str, list[_Injected]] = {}
        self._lost: dict[str, list[_Injected]] = {}
        self._poll_generation = 0
        self._webhook_last_error: tuple[int, str] | None = None
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
                "deleteMessage": self._delete_message,
                "close": self._ok_true,
                "logOut": self._ok_true,
            }.items()
        }

    # ---------------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as PTB's ``base_url``; PTB appends the token itself."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to pass as PTB's ``base_file_url`` so ``File.download_*`` fetch from here."""
        return f"{self.url}/file/bot"

    @property
    def commands(self) -> list[dict[str, str]]:
        """Commands of the default scope and language (what ``setMyCommands`` without extras set)."""
        return list(self._commands.get(("default", ""), []))

    def commands_for(self, scope_type: str = "default", language_code: str = "") -> list[dict[str, str]]:
        """Commands registered for one scope/language pair."""
        return list(self._commands.get((scope_type, language_code), []))

    async def start(self, extra: Iterable[tuple[str, Any, dict[str, Any]]] = ()) -> None:
        """Bind and serve in the running loop; ``port`` holds the real port afterwards. ``extra`` routes
        are served too (the demo mounts the Zalo emulator under /zalo, so one page reaches both)."""
        app = tornado.web.Application(
            [
                *extra,
                (r"/", PageHandler, {"emulator": self}),
                (r"/bot([^/]+)/([A-Za-z]+)", _BotHandler, {"emulator": self}),
                (r"/file/bot([^/]+)/(.+)", _FileDownloadHandler, {"emulator": self}),
                (r"/user/(-?\d+)/(send|press|media)", _UserPostHandler, {"emulator": self}),
                (r"/user/(-?\d+)/upload", _UserUploadHandler, {"emulator": self}),
                (r"/user/(-?\d+)/messages", UserMessagesHandler, {"emulator": self}),
                (r"/user/(-?\d+)/file/(\d+)", _UserFileHandler, {"emulator": self}),
            ],
            log_function=_log_request,
        )
        sockets = tornado.netutil.bind_sockets(self.port, address=self.host)
        self.port = sockets[0].getsockname()[1]
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    # ---------------------------------------------------------------------------------- user side

    def _user(self, chat: _Chat) -> dict[str, Any]:
        return {"id": chat.chat_id, "is_bot": False, "first_name": chat.first_name, "language_code": "vi"}

    def _chat_obj(self, chat: _Chat) -> dict[str, Any]:
        return {"id": chat.chat_id, "type": "private", "first_name": chat.first_name}

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def _ensure_chat(self, chat_id: int, first_name: str | None = None) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, first_name or "Người dân")
        elif first_name:
            chat.first_name = first_name
        return chat

    def _enqueue(self, update: dict[str, Any], *, forced: bool = False) -> None:
        self._pending.append(_Pending(update, forced=forced))
        self._inbox.notify()

    def _user_message(self, chat: _Chat, extra: dict[str, Any], label: str) -> dict[str, Any]:
        message_id = chat.take_message_id()
        message = {
            "message_id": message_id,
            "from": self._user(chat),
            "chat": self._chat_obj(chat),
            "date": int(time.time()),
            **extra,
        }
        chat.user_messages[message_id] = {"message_id": message_id, "text": label}
        update = {"update_id": next(self._update_ids), "message": message}
        self._enqueue(update)
        return update

    def send_text(self, chat_id: int, text: str, *, first_name: str = "Người dân") -> dict[str, Any]:
        """The user types ``text``; commands get the bot_command entity PTB's CommandHandler needs."""
        chat = self._ensure_chat(chat_id, first_name)
        extra: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command:
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": _u16(command.group(0))}]
        return self._user_message(chat, extra, text)

    def send_contact(self, chat_id: int, phone_number: str, *, first_name: str = "Người dân") -> dict[str, Any]:
        """The user presses a "share my phone number" keyboard button."""
        chat = self._ensure_chat(chat_id, first_name)
        contact = {"phone_number": phone_number, "first_name": chat.first_name, "user_id": chat_id}
        return self._user_message(chat, {"contact": contact}, f"📱 {phone_number}")

    def send_media(self, chat_id: int, kind: MediaKind) -> dict[str, Any]:
        """The user sends a non-text message (what elderly users often do instead of typing)."""
        if kind not in _MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {sorted(_MEDIA_KINDS)}")
        chat = self._ensure_chat(chat_id)
        n = next(self._file_ids)
        file_id, unique = f"emu-user-{kind}-{n}", f"emu-u{n}"
        extra: dict[str, Any]
        label: str
        if kind == "voice":
            extra = {
                "voice": {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "duration": 4,
                    "mime_type": "audio/ogg",
                    "file_size": 6_200,
                }
            }
            label = "🎤 (ghi âm)"
        elif kind == "sticker":
            extra = {
                "sticker": {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                    "file_size": 14_000,
                }
            }
            label = "👍 (nhãn dán)"
        elif kind == "photo":
            extra = {
                "photo": [
                    {
                        "file_id": file_id + "-s",
                        "file_unique_id": unique + "s",
                        "width": 90,
                        "height": 120,
                        "file_size": 1_500,
                    },
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": 960,
                        "height": 1280,
                        "file_size": 98_000,
                    },
                ]
            }
            label = "🖼️ (ảnh)"
        elif kind == "document":
            extra = {
                "document": {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_name": "giay_to.pdf",
                    "mime_type": "application/pdf",
                    "file_size": 120_000,
                }
            }
            label = "📎 giay_to.pdf"
        else:
            extra = {"location": {"latitude": 21.0285, "longitude": 105.8542}}
            label = "📍 (vị trí)"
        if kind != "location":
            info = extra[kind][-1] if kind == "photo" else extra[kind]
            self._files[file_id] = _StoredFile(
                None,
                info.get("file_name"),
                info.get("mime_type"),
                kind=kind,
                declared_size=info["file_size"],
                unique_id=unique,
            )
        return self._user_message(chat, extra, label)

    def send_document(
        self,
        chat_id: int,
        file_name: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a file (an officer's CSV/XLSX roster); the bot can ``getFile`` and download it.

        ``mime_type`` defaults to a guess from the name, as Telegram clients do.
        """
        if not file_name.strip():
            raise ValueError("file_name is required")
        if not content:
            raise ValueError("the file is empty")  # Telegram clients refuse to send 0-byte files
        if caption is not None and _u16(caption) > MAX_CAPTION_UTF16:
            raise ValueError("caption is too long")
        chat = self._ensure_chat(chat_id, first_name)
        n = next(self._file_ids)
        file_id, unique = f"emu-user-document-{n}", f"emu-u{n}"
        mime = mime_type or _guess_mime(file_name)
        self._files[file_id] = _StoredFile(bytes(content), file_name, mime, kind="document", unique_id=unique)
        extra: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": file_name,
                "mime_type": mime,
                "file_size": len(content),
            }
        }
        label = f"📎 {file_name}"
        if caption:
            extra["caption"] = caption
            label += f"\n{caption}"
        return self._user_message(chat, extra, label)

    def press(self, chat_id: int, message_id: int, data: str) -> dict[str, Any]:
        """The user taps an inline button (data need not exist on the message: forged presses too)."""
        chat = self._chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        if chat is None or msg is None:
            raise LookupError(f"chat {chat_id} has no bot message {message_id}")
        callback_id = str(next(self._callback_ids))
        self._callbacks[callback_id] = (chat_id, message_id)
        update = {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": callback_id,
                "from": self._user(chat),
                "chat_instance": str(chat_id * 7919 + 17),
                "data": data,
                "message": self._message_json(chat, msg),
            },
        }
        self._enqueue(update)
        return update

    def open_chat(self, chat_id: int, first_name: str = "Người dân") -> None:
        """A person who has opened a chat with the bot (so the bot may message them) but sent nothing now."""
        self._ensure_chat(chat_id, first_name)

    def inject_raw(self, update: dict[str, Any]) -> None:
        """Queue an update exactly as given (malformed ones too): what a future Bot API version might send."""
        self._enqueue(update)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    @property
    def unconfirmed(self) -> int:
        """Updates handed out or waiting that the bot has not yet confirmed with a later offset."""
        return len(self._pending)

    def redeliver(self, update: dict[str, Any]) -> None:
        """Hand the same update (same update_id) to the bot again, as Telegram does after a timeout."""
        self._enqueue(update, forced=True)

    def inject_error(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (optionally only for ``chat_id``) fail."""
        parameters = {"retry_after": retry_after} if status == 429 else None
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_ERROR_TEXT.get(status, f"Error {status}")
        self._injected.setdefault(method.lower(), []).append(_Injected(status, description, parameters, count, chat_id))

    def lose_answer(self, method: str, *, count: int = 1, chat_id: int | None = None) -> None:
        """Carry out the next ``count`` calls of ``method``, then drop the connection without answering.

        What a bot sees when the network fails after Telegram received the request: the message was
        delivered, but the client cannot know.
        """
        self._lost.setdefault(method.lower(), []).append(_Injected(0, "", None, count, chat_id))

    def _take_lost(self, method: str, params: _Params) -> bool:
        return _take_fault(self._lost, method.lower(), params) is not None

    # ---------------------------------------------------------------------------------- inspection

    def _snapshot(self, chat_id: int, msg: _Msg) -> SentMessage:
        return SentMessage(
            message_id=msg.message_id,
            chat_id=chat_id,
            kind=msg.kind,
            text=msg.text,
            buttons=[list(row) for row in msg.buttons],
            file_name=msg.file_name,
            file_bytes=msg.file_bytes,
            edits=msg.edits,
        )

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Current bot messages in the chat (edits applied, deleted ones gone), oldest first."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [self._snapshot(chat_id, m) for _, m in sorted(chat.messages.items())]

    def actions(self, chat_id: int, after: int = 0) -> list[BotAction]:
        """Every bot call that touched the chat with ``seq > after``, in order."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return chat.actions[max(0, after) :]

    def last_seq(self, chat_id: int) -> int:
        chat = self._chats.get(chat_id)
        return len(chat.actions) if chat else 0

    @staticmethod
    def chat_key(text: str) -> int:
        """A chat id from a /user/ path (digits here)."""
        return int(text)

    async def wait_actions(
        self,
        chat_id: int,
        after: int,
        *,
        count: int = 1,
        quiet: float = 0.1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not a per-call timeout
        kinds: frozenset[str] = frozenset({"send", "edit"}),
    ) -> list[BotAction]:
        """Wait for ``count`` matching actions after ``after``, then until the bot is quiet.

        The quiet period lets multi-message replies finish; it never extends past ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        signal = self._signal(chat_id)
        while True:
            event = signal.event
            matching = [a for a in self.actions(chat_id, after) if a.kind in kinds]
            if len(matching) >= count:
                break
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping.is_set():
                arrived = self.actions(chat_id, after)
                summary = "; ".join(f"#{a.seq} {a.kind} {a.method} {(a.text or '')[:60]!r}" for a in arrived)
                why = "emulator stopped" if self._stopping.is_set() else f"timed out after {timeout:g}s"
                raise TimeoutError(
                    f"chat {chat_id}: {why} waiting for {count} action(s) of kinds {sorted(kinds)} "
                    f"after seq {after}; arrived {len(arrived)}: {summary or 'nothing'}"
                )
            await _wait_any([event, self._stopping], remaining)
        while True:
            event = signal.event
            seen = self.last_seq(chat_id)
            window = min(quiet, deadline - loop.time())
            if window <= 0:
                break
            await _wait_any([event], window)
            if self.last_seq(chat_id) == seen:
                break
        return [a for a in self.actions(chat_id, after) if a.kind in kinds]

    def _record(
        self,
        chat: _Chat,
        kind: Literal["send", "edit", "answer", "delete"],
        method: str,
        message_id: int | None,
        text: str | None,
        buttons: list[list[tuple[str, str]]],
    ) -> None:
        chat.actions.append(
            BotAction(
                seq=len(chat.actions) + 1,
                chat_id=chat.chat_id,
                kind=kind,
                method=method,
                message_id=message_id,
                text=text,
                buttons=[list(row) for row in buttons],
                at=time.monotonic(),
            )
        )
        self._signal(chat.chat_id).notify()

    # ---------------------------------------------------------------------------------- JSON views

    def _message_json(self, chat: _Chat, msg: _Msg) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self._bot_user(),
            "chat": self._chat_obj(chat),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        is_text = msg.kind == "text"
        text_key, entities_key = ("text", "entities") if is_text else ("caption", "caption_entities")
        if msg.text is not None:
            data[text_key] = msg.text
        if msg.entities:
            data[entities_key] = msg.entities
        unique = f"emu-u-{msg.file_id}"
        size = len(msg.file_bytes) if msg.file_bytes is not None else 0
        if msg.kind == "photo":
            small_w, small_h = max(1, msg.width // 10), max(1, msg.height // 10)
            data["photo"] = [
                {
                    "file_id": f"{msg.file_id}-s",
                    "file_unique_id": unique + "s",
                    "width": small_w,
                    "height": small_h,
                    "file_size": max(1, size // 20),
                },
                {
                    "file_id": msg.file_id,
                    "file_unique_id": unique,
                    "width": msg.width,
                    "height": msg.height,
                    "file_size": size,
                },
            ]
        elif msg.kind == "document":
            data["document"] = {"file_id": msg.file_id, "file_unique_id": unique, "file_size": size}
            if msg.file_name:
                data["document"]["file_name"] = msg.file_name
            if msg.mime_type:
                data["document"]["mime_type"] = msg.mime_type
        if msg.markup is not None:
            data["reply_markup"] = msg.markup
        return data

    @staticmethod
    def _buttons_json(buttons: list[list[tuple[str, str]]]) -> list[list[dict[str, str]]]:
        return [[{"text": label, "data": data} for label, data in row] for row in buttons]

    def user_view(self, chat_id: int) -> dict[str, Any]:
        """What the web chat needs to (re)draw the transcript; also served by GET /user/<id>/messages."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return {"ok": True, "seq": 0, "actions": [], "messages": [], "user": []}
        return {
            "ok": True,
            "seq": len(chat.actions),
            "messages": [
                {
                    "message_id": m.message_id,
                    "kind": m.kind,
                    "text": m.text,
                    "buttons": self._buttons_json(m.buttons),
                    "file_name": m.file_name,
                    "has_image": m.kind == "photo" and m.file_bytes is not None,
                    "edits": m.edits,
                }
                for _, m in sorted(chat.messages.items())
            ],
            "user": [chat.user_messages[k] for k in sorted(chat.user_messages)],
        }

    def _actions_json(self, chat_id: int, after: int) -> list[dict[str, Any]]:
        return [
            {
                "seq": a.seq,
                "kind": a.kind,
                "method": a.method,
                "message_id": a.message_id,
                "text": a.text,
                "buttons": self._buttons_json(a.buttons),
            }
            for a in self.actions(chat_id, after)
        ]

    async def _user_messages(self, chat_id: int, after: int, wait: float, closed: asyncio.Event) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), MAX_USER_WAIT)
        signal = self._signal(chat_id)
        while True:
            event = signal.event
            remaining = deadline - loop.time()
            if self.last_seq(chat_id) > after or remaining <= 0 or self._stopping.is_set() or closed.is_set():
                break
            await _wait_any([event, self._stopping, closed], remaining)
        view = self.user_view(chat_id)
        view["actions"] = self._actions_json(chat_id, after)
        return view

    def _file_for(self, chat_id: int, message_id: int) -> tuple[bytes, str, str | None] | None:
        chat = self._chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        if msg is None or msg.file_bytes is None:
            return None
        if msg.kind == "photo":
            head = msg.file_bytes[:12]
            ctype = "image/png"
            if head.startswith(b"\xff\xd8"):
                ctype = "image/jpeg"
            elif head.startswith(b"GIF8"):
                ctype = "image/gif"
            elif head[8:12] == b"WEBP":
                ctype = "image/webp"
            return msg.file_bytes, ctype, None
        return msg.file_bytes, "application/octet-stream", msg.file_name

    # ---------------------------------------------------------------------------------- dispatch

    async def call(self, method: str, params: _Params, closed: asyncio.Event) -> tuple[int, dict[str, Any]]:
        """Run one Bot API method and return (HTTP status, Telegram-shaped JSON body)."""
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        self.stats[name] = self.stats.get(name, 0) + 1
        try:
            self._raise_injected(method.lower(), params)
            if entry is None:
                raise EmulatorError(404, "Not Found")
            result = await entry[1](params, closed)
        except EmulatorError as err:
            body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return err.status, body
        return 200, {"ok": True, "result": result}

    def _raise_injected(self, key: str, params: _Params) -> None:
        item = _take_fault(self._injected, key, params)
        if item is not None:
            raise EmulatorError(item.status, item.description, item.parameters)

    def _chat_for(self, params: _Params) -> _Chat:
        raw = params.values.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _render_text(self, params: _Params, key: str, limit: int) -> tuple[str | None, list[dict[str, Any]]]:
        """Apply parse_mode, strip, and enforce Telegram's length limit for text or caption."""
        raw = params.text(key)
        if raw is None:
            return None, []
        mode = (params.text("parse_mode") or "").lower()
        if mode == "html":
            plain, entities = _parse_html(raw)
        else:
            plain, entities = raw, []
        text, entities = _strip_with_entities(plain, entities)
        if _u16(text) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return text, entities

    def _message_text(self, params: _Params) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self._render_text(params, "text", MAX_TEXT_UTF16)
        if not text:
            raise _bad("message text is empty")
        return text, entities

    def _markup(self, params: _Params) -> tuple[dict[str, Any] | None, list[list[tuple[str, str]]]]:
        """Validate reply_markup; return (markup echoed in Message, parsed inline buttons)."""
        markup = params.obj("reply_markup")
        if markup is None:
            return None, []
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            keyboard = markup.get("keyboard")
            if keyboard is not None and not (
                isinstance(keyboard, list) and all(isinstance(row, list) for row in keyboard)
            ):
                raise _bad("can't parse reply keyboard markup JSON object")
            return None, []  # reply keyboards / remove / force_reply are not echoed in Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        buttons: list[list[tuple[str, str]]] = []
        for row in rows:
            parsed: list[tuple[str, str]] = []
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad("can't parse inline keyboard button: Text must be a String")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                elif "url" in button:
                    url = button["url"]
                    if not isinstance(url, str) or not re.match(r"(https?|tg)://\S+$", url):
                        raise _bad("BUTTON_URL_INVALID")
                elif len(button) == 1:
                    raise _bad("text buttons are unallowed in the inline keyboard")
                parsed.append((button["text"], _button_data(button)))
            if parsed:
                buttons.append(parsed)
        if not buttons:
            return None, []
        return {"inline_keyboard": rows}, buttons

    def _target(self, params: _Params, *, verb: str = "edit") -> tuple[_Chat, _Msg]:
        if params.values.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_for(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = chat.messages.get(message_id)
        if msg is None:
            if message_id in chat.user_messages and verb == "edit":
                raise _bad("message can't be edited")
            raise _bad(f"message to {verb} not found")
        return chat, msg

    # ---------------------------------------------------------------------------------- methods

    async def _ok_true(self, params: _Params, closed: asyncio.Event) -> Any:
        return True

    async def _get_me(self, params: _Params, closed: asyncio.Event) -> Any:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            keep = -offset
            self._pending = self._pending[-keep:] if keep else []
            return
        self._pending = [p for p in self._pending if p.update["update_id"] >= offset or (p.forced and not p.delivered)]

    def _take(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        chosen = [
            p
            for p in self._pending
            if offset is None or offset < 0 or p.update["update_id"] >= offset or not p.delivered
        ]
        chosen.sort(key=lambda p: p.update["update_id"])  # PTB confirms with last id + 1
        chosen = chosen[:limit]
        for p in chosen:
            p.delivered = True
        return [p.update for p in chosen]

    async def _get_updates(self, params: _Params, closed: asyncio.Event) -> Any:
        if self.webhook_url:
            raise EmulatorError(409, _WEBHOOK_CONFLICT)
        self._poll_generation += 1
        generation = self._poll_generation
        self._inbox.notify()  # an older long poll must now fail with 409 like on Telegram
        offset = params.integer("offset")
        limit = params.integer("limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = params.number("timeout") or 0.0
        self._confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            event = self._inbox.event
            if generation != self._poll_generation:
                raise EmulatorError(409, _POLL_CONFLICT)
            if self.webhook_url:
                raise EmulatorError(409, _WEBHOOK_CONFLICT)
            if closed.is_set() or self._stopping.is_set():
                return []
            batch = self._take(offset, limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await _wait_any([event, closed, self._stopping], remaining)

    async def _set_webhook(self, params: _Params, closed: asyncio.Event) -> Any:
        url = params.text("url") or ""
        if url and not re.match(r"https?://[^\s/]+", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        await self._cancel_webhook_task()
        self.webhook_url = url or None
        self.webhook_secret = secret if url else None
        self._webhook_last_error = None
        self._inbox.notify()
        if self.webhook_url and self._client is not None:
            self._webhook_task = asyncio.create_task(self._webhook_loop(), name="emulator-webhook")
        return True

    async def _delete_webhook(self, params: _Params, closed: asyncio.Event) -> Any:
        await self._cancel_webhook_task()
        self.webhook_url = None
        self.webhook_secret = None
        if params.flag("drop_pending_updates"):
            self._pending.clear()
        self._inbox.notify()
        return True

    async def _get_webhook_info(self, params: _Params, closed: asyncio.Event) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            info["ip_address"] = "127.0.0.1"
            if self._webhook_last_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _webhook_loop(self) -> None:
        """Deliver pending updates in order, one at a time, retrying failures with a short backoff."""
        while not self._stopping.is_set():
            event = self._inbox.event
            if not self._pending:
                await _wait_any([event, self._stopping], MAX_USER_WAIT)
                continue
            entry = self._pending[0]
            delivered = await self._deliver(entry.update)
            if delivered or not self._stopping.is_set():  # given up after retries: drop, as Telegram does
                self._pending = [p for p in self._pending if p is not entry]

    async def _deliver(self, update: dict[str, Any]) -> bool:
        client, url = self._client, self.webhook_url
        if client is None or url is None:
            return False
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        body = json.dumps(update, ensure_ascii=False).encode()
        problem = ""
        for attempt in range(_WEBHOOK_ATTEMPTS):
            if attempt:
                # A backoff pause, not an event wait: stop() cuts it short through _stopping.
                await _wait_any([self._stopping], _WEBHOOK_BACKOFF * 2 ** (attempt - 1))
                if self._stopping.is_set():
                    return False
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem = f"Connection error: {exc.__class__.__name__}"
                continue
            if 200 <= response.status_code < 300:
                return True
            problem = f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
        self._webhook_last_error = (int(time.time()), problem)
        self.webhook_errors.append(f"update {update.get('update_id')}: {problem}")
        _LOG.warning("webhook delivery of update %s failed: %s", update.get("update_id"), problem)
        return False

    async def _set_my_commands(self, params: _Params, closed: asyncio.Event) -> Any:
        commands = params.obj("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        cleaned: list[dict[str, str]] = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand: BotCommand must be an Object")
            command, description = str(item.get("command", "")), str(item.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.removeprefix("/")):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command.removeprefix("/"), "description": description})
        if len(cleaned) > 100:
            raise _bad("too many commands")
        self._commands[self._commands_key(params)] = cleaned
        return True

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = params.obj("scope")
        scope_type = str(scope.get("type", "default")) if isinstance(scope, dict) else "default"
        return scope_type, params.text("language_code") or ""

    async def _get_my_commands(self, params: _Params, closed: asyncio.Event) -> Any:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: _Params, closed: asyncio.Event) -> Any:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _new_message(
        self,
        chat: _Chat,
        kind: Literal["text", "photo", "document"],
        text: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
        buttons: list[list[tuple[str, str]]],
    ) -> _Msg:
        msg = _Msg(chat.take_message_id(), kind, int(time.time()), text, entities, markup, buttons)
        chat.messages[msg.message_id] = msg
        return msg

    async def _send_message(self, params: _Params, closed: asyncio.Event) -> Any:
        chat = self._chat_for(params)
        text, entities = self._message_text(params)
        markup, buttons = self._markup(params)
        msg = self._new_message(chat, "text", text, entities, markup, buttons)
        self._record(chat, "send", "sendMessage", msg.message_id, text, buttons)
        return self._message_json(chat, msg)

    def _apply_edit(
        self,
        chat: _Chat,
        msg: _Msg,
        method: str,
        text: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
        buttons: list[list[tuple[str, str]]],
    ) -> Any:
        if (text, entities, buttons) == (msg.text, msg.entities, msg.buttons) and json.dumps(
            markup, sort_keys=True
        ) == json.dumps(msg.markup, sort_keys=True):
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        msg.text, msg.entities, msg.markup, msg.buttons = text, entities, markup, buttons
        msg.edits += 1
        msg.edit_date = int(time.time())
        self._record(chat, "edit", method, msg.message_id, text, buttons)
        return self._message_json(chat, msg)

    async def _edit_message_text(self, params: _Params, closed: asyncio.Event) -> Any:
        chat, msg = self._target(params)
        if msg.kind != "text":
            raise _bad("there is no text in the message to edit")
        text, entities = self._message_text(params)
        markup, buttons = self._markup(params)
        return self._apply_edit(chat, msg, "editMessageText", text, entities, markup, buttons)

    async def _edit_message_caption(self, params: _Params, closed: asyncio.Event) -> Any:
        chat, msg = self._target(params)
        if msg.kind == "text":
            raise _bad("there is no caption in the message to edit")
        caption, entities = self._render_text(params, "caption", MAX_CAPTION_UTF16)
        markup, buttons = self._markup(params)
        return self._apply_edit(chat, msg, "editMessageCaption", caption or None, entities, markup, buttons)

    async def _edit_message_reply_markup(self, params: _Params, closed: asyncio.Event) -> Any:
        chat, msg = self._target(params)
        markup, buttons = self._markup(params)
        return self._apply_edit(chat, msg, "editMessageReplyMarkup", msg.text, msg.entities, markup, buttons)

    async def _answer_callback_query(self, params: _Params, closed: asyncio.Event) -> Any:
        callback_id = params.text("callback_query_id") or ""
        target = self._callbacks.pop(callback_id, None)
        if target is None:
            raise _bad(_QUERY_INVALID.removeprefix("Bad Request: "))
        chat_id, message_id = target
        text = params.text("text")
        if text is not None and _u16(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        answer = {
            "callback_query_id": callback_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
            "cache_time": params.integer("cache_time") or 0,
        }
        self.callback_answers.append(answer)
        chat = self._chats.get(chat_id)
        if chat is not None:
            self._record(chat, "answer", "answerCallbackQuery", message_id, text, [])
        return True

    def _file_param(self, params: _Params, key: str) -> _StoredFile | None:
        """Resolve an uploaded file, an ``attach://`` reference, a known file_id or a URL."""
        upload = params.files.get(key)
        if upload is None:
            ref = params.text(key)
            if not ref:
                return None
            if ref.startswith("attach://"):
                upload = params.files.get(ref.removeprefix("attach://"))
                if upload is None:
                    raise _bad(f"file {ref} not found in the request")
            elif re.match(r"https?://", ref):
                return _StoredFile(None, None, None)
            elif ref in self._files:
                return self._files[ref]
            else:
                raise _bad("wrong file identifier/HTTP URL specified")
        name, data, mime = upload
        if not data:
            return None  # an empty upload counts as no file, like a missing one
        return _StoredFile(data, name or None, mime or None)

    async def _send_file(self, params: _Params, kind: Literal["photo", "document"], method: str) -> Any:
        chat = self._chat_for(params)
        stored = self._file_param(params, kind)
        if stored is None:
            raise _bad(f"there is no {kind} in the request")
        size = (800, 600)
        if kind == "photo" and stored.data is not None:
            measured = _image_size(stored.data)
            if measured is None:
                raise _bad("IMAGE_PROCESS_FAILED")
            size = measured
        caption, entities = self._render_text(params, "caption", MAX_CAPTION_UTF16)
        markup, buttons = self._markup(params)
        msg = self._new_message(chat, kind, caption or None, entities, markup, buttons)
        msg.file_id = f"emu-{kind}-{next(self._file_ids)}"
        msg.file_bytes, msg.file_name, msg.mime_type = stored.data, stored.file_name, stored.mime_type
        if kind == "photo":
            msg.file_name = None
            msg.width, msg.height = size
        self._files[msg.file_id] = _StoredFile(
            stored.data, msg.file_name, stored.mime_type, kind=kind, declared_size=stored.declared_size
        )
        self._record(chat, "send", method, msg.message_id, msg.text, buttons)
        return self._message_json(chat, msg)

    async def _send_photo(self, params: _Params, closed: asyncio.Event) -> Any:
        return await self._send_file(params, "photo", "sendPhoto")

    async def _send_document(self, params: _Params, closed: asyncio.Event) -> Any:
        return await self._send_file(params, "document", "sendDocument")

    async def _get_file(self, params: _Params, closed: asyncio.Event) -> Any:
        file_id = params.text("file_id") or ""
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        path = self._file_paths.get(file_id)
        if path is None:
            path = f"{_FILE_FOLDERS.get(stored.kind, 'documents')}/file_{next(self._path_numbers)}"
            ext = _FILE_EXTENSIONS.get(stored.kind, "")
            if stored.kind == "document" and stored.file_name:
                dot = stored.file_name.rfind(".")
                tail = stored.file_name[dot:] if dot > 0 else ""
                ext = tail.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,10}", tail) else ""
            path += ext
            self._file_paths[file_id] = path
            self._path_files[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": stored.unique_id or f"emu-u-{file_id}",
            "file_size": stored.size,
            "file_path": path,
        }

    def _download(self, file_path: str) -> _StoredFile | None:
        file_id = self._path_files.get(file_path)
        return self._files.get(file_id) if file_id is not None else None

    async def _send_chat_action(self, params: _Params, closed: asyncio.Event) -> Any:
        self._chat_for(params)
        if params.text("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _delete_message(self, params: _Params, closed: asyncio.Event) -> Any:
        chat = self._chat_for(params)
        message_id = params.integer("message_id")
        if message_id is not None and chat.user_messages.pop(message_id, None) is not None:
            self._record(chat, "delete", "deleteMessage", message_id, None, [])
            return True
        _, msg = self._target(params, verb="delete")
        del chat.messages[msg.message_id]
        self._record(chat, "delete", "deleteMessage", msg.message_id, None, [])
        return True


# --------------------------------------------------------------------------------------------------
# HTTP handlers
# --------------------------------------------------------------------------------------------------


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Keep tornado's per-request access log at DEBUG: load tests make thousands of requests.

    The path only, with the token masked: a Bot API URL carries the token, its query the payload.
    """
    request = handler.request
    path = re.sub(r"/(file/)?bot[^/]+", lambda m: f"/{m.group(1) or ''}bot[token]", request.path, count=1)
    _LOG.debug("%s %s -> %s", request.method, path, handler.get_status())


class JsonHandler(tornado.web.RequestHandler, Generic[E]):
    """What every emulator route shares (this one's and the Zalo one's): its emulator, a flag set when
    the client went away (long polls stop waiting), JSON answers, and the JSON object of the body."""

    emulator: E
    closed: asyncio.Event

    def initialize(self, emulator: E) -> None:
        self.emulator = emulator
        self.closed = asyncio.Event()

    def on_connection_close(self) -> None:
        self.closed.set()

    def write_json(self, status: int, body: Any) -> None:
        if self.closed.is_set():
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body, ensure_ascii=False))

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object; {} when empty, None when it is something else."""
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


class UserMessagesHandler(JsonHandler[Any]):
    """``GET /user/<chat_id>/messages?after=SEQ&wait=S``: long-poll for what the bot did (both emulators:
    the emulator turns the chat id from the path into its own kind with ``chat_key``)."""

    async def get(self, chat_id_text: str) -> None:
        try:
            after = int(self.get_query_argument("after", "0"))
            wait = float(self.get_query_argument("wait", "0"))
        except ValueError:
            self.write_json(400, {"ok": False, "description": "after must be int, wait a number"})
            return
        with self.emulator._serving():
            chat = self.emulator.chat_key(chat_id_text)
            view = await self.emulator._user_messages(chat, after, wait, self.closed)
            self.write_json(200, view)


class PageHandler(JsonHandler[Any]):
    """``GET /``: the offline web chat page."""

    async def get(self) -> None:
        page = importlib.resources.files("bot.sandbox").joinpath("webchat.html").read_bytes()
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class _EmulatorHandler(JsonHandler["BotApiEmulator"]):
    def json_body(self) -> dict[str, Any]:
        return self.json_object() or {}


class _BotHandler(_EmulatorHandler):
    """``/bot<token>/<method>``: the Bot API proper."""

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    def _params(self) -> _Params:
        values: dict[str, Any] = {
            key: items[-1].decode("utf-8", "replace") for key, items in self.request.arguments.items() if items
        }
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            values.update(self.json_body())
        files = {
            key: (items[-1].filename, items[-1].body, items[-1].content_type)
            for key, items in self.request.files.items()
            if items
        }
        return _Params(values, files)

    async def _handle(self, token: str, method: str) -> None:
        if token != self.emulator.token:
            self.write_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        with self.emulator._serving():
            params = self._params()
            try:
                status, body = await self.emulator.call(method, params, self.closed)
            except Exception as exc:
                _LOG.exception("emulator failed handling %s", method)
                status = 500
                body = {"ok": False, "error_code": 500, "description": f"Internal Server Error: {exc}"}
            if status == 200 and self.emulator._take_lost(method, params):
                connection = self.request.connection
                if isinstance(connection, tornado.http1connection.HTTP1Connection):
                    connection.close()  # done, but the answer never reaches the bot
                return
            self.write_json(status, body)


class _UserPostHandler(_EmulatorHandler):
    """``POST /user/<chat_id>/(send|press|media)``: a simulated person acting (web page, load tools)."""

    async def post(self, chat_id_text: str, action: str) -> None:
        emu, chat_id, body = self.emulator, int(chat_id_text), self.json_body()
        try:
            if action == "send":
                text = body.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("text is required")
                name = body.get("first_name")
                if isinstance(name, str) and name.strip():
                    update = emu.send_text(chat_id, text, first_name=name)
                else:
                    update = emu.send_text(chat_id, text)
            elif action == "press":
                message_id, data = body.get("message_id"), body.get("data")
                if not isinstance(message_id, int) or not isinstance(data, str):
                    raise ValueError("message_id (int) and data (str) are required")
                update = emu.press(chat_id, message_id, data)
            else:
                kind = body.get("kind")
                if kind not in _MEDIA_KINDS:
                    raise ValueError(f"kind must be one of {sorted(_MEDIA_KINDS)}")
                update = emu.send_media(chat_id, cast(MediaKind, kind))
        except (ValueError, LookupError) as exc:
            self.write_json(400, {"ok": False, "description": str(exc)})
            return
        self.write_json(200, {"ok": True, "update_id": update["update_id"]})


class _UserUploadHandler(_EmulatorHandler):
    """``POST /user/<chat_id>/upload`` (multipart field ``file``, optional ``caption``): send a file."""

    async def post(self, chat_id_text: str) -> None:
        uploads = self.request.files.get("file")
        if not uploads or not uploads[0].filename:
            self.write_json(400, {"ok": False, "description": "multipart field 'file' is required"})
            return
        upload = uploads[0]
        ctype = upload.content_type or ""
        caption = self.get_body_argument("caption", "") or None
        try:
            update = self.emulator.send_document(
                int(chat_id_text),
                upload.filename,
                upload.body,
                mime_type=None if ctype in {"", "application/octet-stream"} else ctype,
                caption=caption,
            )
        except ValueError as exc:
            self.write_json(400, {"ok": False, "description": str(exc)})
            return
        self.write_json(200, {"ok": True, "update_id": update["update_id"]})


class _FileDownloadHandler(_EmulatorHandler):
    """``GET /file/bot<token>/<file_path>``: the file server behind ``getFile``'s ``file_path``."""

    async def get(self, token: str, file_path: str) -> None:
        if token != self.emulator.token:
            self.write_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        stored = self.emulator._download(file_path)
        if stored is None:
            self.write_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.set_header("Content-Type", stored.mime_type or "application/octet-stream")
        self.finish(stored.content())


class _UserFileHandler(_EmulatorHandler):
    """``GET /user/<chat_id>/file/<message_id>``: bytes of a photo/document the bot sent."""

    async def get(self, chat_id_text: str, message_id_text: str) -> None:
        found = self.emulator._file_for(int(chat_id_text), int(message_id_text))
        if found is None:
            self.write_json(404, {"ok": False, "description": "no file for this message"})
            return
        data, ctype, name = found
        self.set_header("Content-Type", ctype)
        if name:
            safe = re.sub(r"[^\w.\- ]", "_", name)
            self.set_header("Content-Disposition", f'attachment; filename="{safe}"')
        self.finish(data)
