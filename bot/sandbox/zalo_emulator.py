"""A local, in-process imitation of the Zalo Bot Platform API (``https://bot-api.zaloplatforms.com``).

The real Zalo channel (``bot.channels.zalo``) talks to this server over real HTTP via ``base_url``, so
tests and the demo exercise the same code path as production - JSON encoding, error mapping, long
polling without offsets, webhooks with a secret header, photos sent by URL - without a network or a
Zalo account.  The "user side" (``send_text``, ``send_image``, the ``/user/...`` routes) plays the
person chatting with the bot; the routes answer in the same shapes as the Telegram emulator's
(:mod:`bot.sandbox.emulator`), so the web chat page can talk to either.

It runs standalone (:meth:`ZaloEmulator.start`, for tests) or mounted in another tornado application
(:meth:`ZaloEmulator.handlers` plus :meth:`ZaloEmulator.attach`; the demo puts it under ``/zalo`` on
the Telegram emulator's server).

Fidelity choices worth knowing:

* No offsets: ``getUpdates`` hands out ONE update (a dict) and forgets it, as Zalo does; an update
  handed out to a client that then fails to store it is gone.  ``updates_as_list=True`` answers with
  every queued update in a list instead, because a client must accept both shapes.  An empty poll ends
  with error 408, a poll while a webhook is set with 409.  ``timeout`` may be a string or a number;
  it defaults to and is capped at 30 s.  A poll whose client disconnected takes nothing.
* Errors come inside an HTTP 200 (``{"ok": false, "error_code": N, ...}``), as Zalo answers most of
  them, except a wrong token (HTTP 401) and an unknown method (HTTP 404).  Injected faults with an
  ``http_status`` answer that status with an HTML page, like a proxy in front of the API.  The
  descriptions are the ones a client may branch on ("chat not found", "user blocked the bot").
* Ids are strings: chat ids, user ids and 32-hex message ids; a ``chat_id`` that is not a string
  is refused, so a client that sends numbers fails here and not only in production.  Dates are
  milliseconds.
* A bot may only write to people who have messaged it (else "chat not found"); text and captions are
  limited to 2,000 characters (Python characters, not UTF-16 units).
* ``sendPhoto`` takes a public URL that Zalo itself downloads: the emulator fetches it (5 s) and
  refuses the call if that fails, so a bot whose file links are unreachable finds out here.  Photos
  users send are served by the emulator (a tiny PNG) so their ``photo_url`` works too.
* Webhook deliveries go one at a time, in order, each retried a few times with a short backoff, then
  dropped (like the Telegram emulator's).  Every attempt's HTTP status (0 for no connection) is kept
  in :attr:`ZaloEmulator.webhook_statuses`.
* The web page orders a chat by message id, which in Telegram is a per-chat counter.  Zalo's ids
  are random hex, so the ``/user/...`` views number the chat's messages 1, 2, 3... in ``message_id``
  (shared by the person's and the bot's messages) and give the Zalo id as ``zalo_message_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

import httpx
import tornado.http1connection
import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.sandbox.emulator import EmulatorLifecycle, JsonHandler, PageHandler, UserMessagesHandler, _wait_any

__all__ = ["ZaloEmulator", "ZaloMessage"]

_LOG = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_POLL = 30.0
MAX_USER_WAIT = 30.0
PHOTO_FETCH_TIMEOUT = 5.0
_WEBHOOK_ATTEMPTS = 4
_WEBHOOK_BACKOFF = 0.05
_CHAT_ID = r"[A-Za-z0-9_-]{1,64}"
_CHAT_ID_RE = re.compile(_CHAT_ID)
_URL_RE = re.compile(r"https?://[^\s/?#]+\S*")
_CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_MEDIA_KINDS = frozenset({"photo", "sticker", "voice", "document", "location"})
_UNSUPPORTED_LABELS = {"voice": "🎤 (ghi âm)", "document": "📎 (tệp)", "location": "📍 (vị trí)"}
_DEFAULT_NAME = "Người dân"
_WEBHOOK_ACTIVE = "Webhook is active, use deleteWebhook first"
_TEXT_LENGTH = "text length must be 1-2000"
_CAPTION_LENGTH = "caption length must be 0-2000"
_PHOTO_INVALID = "photo url is invalid"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad request",
    401: "Unauthorized",
    403: "user blocked the bot",
    404: "Not Found",
    408: "Request timeout",
    409: _WEBHOOK_ACTIVE,
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}
# A 1x1 transparent PNG: what the people's photos and stickers look like here.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)

TornadoRoute = tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]


# --------------------------------------------------------------------------------------------------
# Public snapshot type
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZaloMessage:
    """One message the bot sent, as the person received it.

    ``text`` is the caption for photos (empty when none); ``at`` is a ``time.monotonic()`` stamp so
    benchmarks can measure reply latency.  ``photo_type`` is the Content-Type the photo URL answered
    with, ``sticker`` the sticker id of a sticker.
    """

    message_id: str
    chat_id: str
    kind: Literal["text", "photo", "sticker"]
    text: str
    photo_url: str
    photo_bytes: bytes | None
    at: float
    photo_type: str | None = None
    sticker: str = ""


# --------------------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """A refused call: Zalo's error code and description, and the HTTP status it comes with."""

    def __init__(self, error_code: int, description: str, http_status: int = 200) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.http_status = http_status


@dataclass(slots=True)
class _Fault:
    error_code: int
    description: str
    http_status: int | None
    remaining: int


@dataclass(slots=True)
class _Chat:
    chat_id: str
    display_name: str
    views: int = 0  # the web page's per-chat message numbers (see the module docstring)
    sent: list[tuple[int, ZaloMessage]] = field(default_factory=list)
    user: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)

    def next_view(self) -> int:
        self.views += 1
        return self.views


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_id() -> str:
    return uuid.uuid4().hex


def _check_chat_id(chat_id: str) -> None:
    if not isinstance(chat_id, str) or not _CHAT_ID_RE.fullmatch(chat_id):
        raise ValueError(f"chat id must match {_CHAT_ID}, got {chat_id!r}")


def _event_name(update: Any) -> str:
    """What a log line may say about an update: its event, never its text."""
    name = update.get("event_name") if isinstance(update, dict) else None
    return name if isinstance(name, str) else "malformed update"


def _update_ref(update: dict[str, Any]) -> str:
    """``<event>:<message_id>``, how the Zalo channel names an update (Zalo has no update ids)."""
    return f"{update['event_name']}:{update['message']['message_id']}"


def _poll_timeout(value: Any) -> float:
    """getUpdates' ``timeout``: a string or a number of seconds, 30 when absent, within 0-30."""
    if value is None or value == "":
        return MAX_POLL
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _ApiError(400, "timeout must be a number")
    try:
        seconds = float(value)
    except ValueError:
        raise _ApiError(400, "timeout must be a number") from None
    return min(max(seconds, 0.0), MAX_POLL)


def _proxy_page(status: int) -> str:
    """The HTML a reverse proxy answers with when the API behind it fails."""
    try:
        title = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        title = str(status)
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------

_Method = Callable[[dict[str, Any], asyncio.Event], Awaitable[Any]]


class ZaloEmulator(EmulatorLifecycle[str]):
    """Zalo Bot Platform API server plus simulated people; see the module docstring for fidelity."""

    def __init__(
        self, token: str = "zalo-test-token", *, updates_as_list: bool = False, wrap_webhook: bool = True
    ) -> None:
        super().__init__()
        self.token = token
        self.updates_as_list = updates_as_list
        self.wrap_webhook = wrap_webhook
        head = token.split(":", 1)[0]
        self.bot_id = head if head.isdigit() else "2001234567890123456"
        self.calls: list[tuple[str, str | None]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_statuses: list[int] = []

        self._root: str | None = None
        self._queue: deque[Any] = deque()
        self._chats: dict[str, _Chat] = {}
        self._blocked: set[str] = set()
        self._media: set[str] = set()  # ids served under /media/<id>.png
        self._faults: dict[str, list[_Fault]] = {}
        self._lost: dict[str, int] = {}
        self._webhook_updated_at = 0
        self._methods: dict[str, tuple[str, _Method]] = {
            name.lower(): (name, method)
            for name, method in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendSticker": self._send_sticker,
                "sendChatAction": self._send_chat_action,
            }.items()
        }

    # ---------------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The emulator's root, e.g. ``http://127.0.0.1:PORT/zalo`` when mounted under ``/zalo``."""
        if self._root is None:
            raise RuntimeError("the Zalo emulator has no address yet: call start() or attach()")
        return self._root

    @property
    def base_url(self) -> str:
        """What to give the Zalo client as ``base_url``; it appends ``<token>/<method>``."""
        return f"{self.url}/bot"

    def handlers(self, prefix: str = "") -> list[TornadoRoute]:
        """Tornado routes for the API, the people's media and the ``/user`` routes, under ``prefix``."""
        root = re.escape(prefix.rstrip("/"))
        args: dict[str, Any] = {"emulator": self}
        chat = f"({_CHAT_ID})"
        return [
            (rf"{root}/bot([^/]+)/([A-Za-z]+)", _BotHandler, args),
            (rf"{root}/media/([0-9a-f]{{32}})\.png", _MediaHandler, args),
            (rf"{root}/user/{chat}/(send|press|media)", _UserPostHandler, args),
            (rf"{root}/user/{chat}/upload", _UserUploadHandler, args),
            (rf"{root}/user/{chat}/messages", UserMessagesHandler, args),
            (rf"{root}/user/{chat}/file/([0-9A-Za-z]{{1,64}})", _UserFileHandler, args),
        ]

    def attach(self, url: str, prefix: str) -> None:
        """Mounted in another server at ``url`` under ``prefix``: where the API and media URLs live."""
        self._root = url.rstrip("/") + prefix.rstrip("/")

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> None:
        """Serve on its own (the web chat page at ``/``); :attr:`url` holds the real port afterwards."""
        if self._server is not None:
            raise RuntimeError("the Zalo emulator is already serving")
        rules: list[Any] = [*self.handlers(), (r"/", PageHandler, {"emulator": self})]
        app = tornado.web.Application(rules, log_function=_log_request)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._root = f"http://{host}:{sockets[0].getsockname()[1]}"
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    def _http(self) -> httpx.AsyncClient:
        """The client for webhooks and photo URLs; created on first use so a mounted emulator has one."""
        if self._stopping.is_set():
            raise RuntimeError("the Zalo emulator is stopped")
        if self._client is None:
            # trust_env=False: the URLs are mostly on 127.0.0.1, which a proxy from the environment would break.
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0), trust_env=False)
        return self._client

    # ---------------------------------------------------------------------------------- user side

    def _chat(self, chat_id: str, display_name: str | None = None) -> _Chat:
        _check_chat_id(chat_id)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id, display_name or _DEFAULT_NAME)
        elif display_name:
            chat.display_name = display_name
        return chat

    def _enqueue(self, update: Any) -> None:
        self._queue.append(update)
        self._inbox.notify()

    def _user_update(self, chat: _Chat, event: str, extra: dict[str, Any], label: str) -> dict[str, Any]:
        message_id = _new_id()
        message = {
            "message_id": message_id,
            "date": _now_ms(),
            "chat": {"id": chat.chat_id, "chat_type": "PRIVATE"},
            "from": {"id": chat.chat_id, "display_name": chat.display_name, "is_bot": False},
            **extra,
        }
        chat.user.append({"message_id": chat.next_view(), "zalo_message_id": message_id, "text": label})
        update = {"event_name": event, "message": message}
        self._enqueue(update)
        return update

    def _media_url(self) -> str:
        media_id = _new_id()
        self._media.add(media_id)
        return f"{self.url}/media/{media_id}.png"

    def send_text(self, chat_id: str, text: str, *, display_name: str = _DEFAULT_NAME) -> dict[str, Any]:
        """The person types ``text``; returns the update the bot will receive."""
        chat = self._chat(chat_id, display_name)
        return self._user_update(chat, "message.text.received", {"text": text}, text)

    def send_image(self, chat_id: str, caption: str = "", *, display_name: str = _DEFAULT_NAME) -> dict[str, Any]:
        """The person sends a photo (a tiny PNG the emulator serves, so ``photo_url`` can be fetched)."""
        chat = self._chat(chat_id, display_name)
        extra: dict[str, Any] = {"photo_url": self._media_url()}
        label = "🖼️ (ảnh)"
        if caption:
            extra["caption"] = caption
            label += f"\n{caption}"
        return self._user_update(chat, "message.image.received", extra, label)

    def send_sticker(
        self, chat_id: str, sticker: str | None = None, *, display_name: str = _DEFAULT_NAME
    ) -> dict[str, Any]:
        """The person sends a sticker (what elderly users often do instead of typing)."""
        chat = self._chat(chat_id, display_name)
        extra = {"sticker": sticker or _new_id()[:20], "url": self._media_url()}
        return self._user_update(chat, "message.sticker.received", extra, "👍 (nhãn dán)")

    def send_unsupported(
        self,
        chat_id: str,
        kind: str = "voice",
        *,
        label: str | None = None,
        display_name: str = _DEFAULT_NAME,
    ) -> dict[str, Any]:
        """The person sends what Zalo does not pass to bots (voice, file, location): an event with no text.

        ``kind`` and ``label`` only change what the web page shows.
        """
        chat = self._chat(chat_id, display_name)
        shown = label or _UNSUPPORTED_LABELS.get(kind, "(tin nhắn không hỗ trợ)")
        return self._user_update(chat, "message.unsupported.received", {}, shown)

    def inject_raw(self, update: Any) -> None:
        """Queue any JSON as an update, malformed ones too: what a later API version might send."""
        self._enqueue(update)

    def redeliver(self, update: dict[str, Any]) -> None:
        """Queue the same update again: Zalo delivering twice (after a webhook timeout, say)."""
        self._enqueue(update)

    def block(self, chat_id: str) -> None:
        """The person blocks the bot: sends to them fail with 403 from now on."""
        _check_chat_id(chat_id)
        self._blocked.add(chat_id)

    def pending(self) -> int:
        """Updates queued and not yet handed out (by getUpdates or the webhook)."""
        return len(self._queue)

    def inject_error(
        self,
        method: str,
        error_code: int,
        *,
        count: int = 1,
        description: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail without effect.

        ``http_status`` None: HTTP 200 with ``{"ok": false, ...}``; set (502, say): that status with an
        HTML body, like a proxy's error page.
        """
        text = description or _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self._faults.setdefault(method.lower(), []).append(_Fault(error_code, text, http_status, count))

    def lose_answer(self, method: str, *, count: int = 1) -> None:
        """Carry out the next ``count`` successful calls of ``method``, then close the connection unanswered.

        What a bot sees when the network fails after Zalo received the request: the message went out,
        but the client cannot know.
        """
        key = method.lower()
        self._lost[key] = self._lost.get(key, 0) + count

    def _take_fault(self, key: str) -> _Fault | None:
        queue = self._faults.get(key)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    def _take_lost(self, method: str) -> bool:
        key = method.lower()
        if self._lost.get(key, 0) <= 0:
            return False
        self._lost[key] -= 1
        return True

    # ---------------------------------------------------------------------------------- inspection

    def messages(self, chat_id: str) -> list[ZaloMessage]:
        """What the bot sent to the chat, oldest first."""
        chat = self._chats.get(chat_id)
        return [message for _, message in chat.sent] if chat else []

    @staticmethod
    def chat_key(text: str) -> str:
        """A chat id from a /user/ path (Zalo's are strings)."""
        return text

    async def wait_messages(
        self,
        chat_id: str,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for the whole wait, not a per-call timeout
    ) -> list[ZaloMessage]:
        """Wait until the bot has sent at least ``count`` messages to the chat; all of them, oldest first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        signal = self._signal(chat_id)
        while True:
            event = signal.event
            found = self.messages(chat_id)
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping.is_set():
                summary = "; ".join(f"{m.kind} {(m.text or m.sticker)[:60]!r}" for m in found)
                why = "emulator stopped" if self._stopping.is_set() else f"timed out after {timeout:g}s"
                raise TimeoutError(
                    f"Zalo chat {chat_id}: {why} waiting for {count} bot message(s); "
                    f"arrived {len(found)}: {summary or 'nothing'}"
                )
            await _wait_any([event, self._stopping], remaining)

    def _store(
        self,
        chat: _Chat,
        method: str,
        kind: Literal["text", "photo", "sticker"],
        text: str,
        *,
        photo: tuple[str, bytes, str] | None = None,
        sticker: str = "",
    ) -> dict[str, Any]:
        """Record a bot message, wake whoever waits for the chat, and return Zalo's result."""
        url, data, ctype = photo if photo is not None else ("", None, None)
        message = ZaloMessage(_new_id(), chat.chat_id, kind, text, url, data, time.monotonic(), ctype, sticker)
        view = chat.next_view()
        chat.sent.append((view, message))
        chat.actions.append(
            {
                "seq": len(chat.actions) + 1,
                "kind": "send",
                "method": method,
                "message_id": view,
                "zalo_message_id": message.message_id,
                "text": self._view_text(message),
                "buttons": [],
            }
        )
        self._signal(chat.chat_id).notify()
        return {"message_id": message.message_id, "date": _now_ms()}

    # ---------------------------------------------------------------------------------- JSON views

    @staticmethod
    def _view_text(message: ZaloMessage) -> str:
        return "👍 (nhãn dán)" if message.kind == "sticker" else message.text

    def user_view(self, chat_id: str) -> dict[str, Any]:
        """What the web chat needs to (re)draw the transcript; also served by GET /user/<id>/messages."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return {"ok": True, "seq": 0, "actions": [], "messages": [], "user": []}
        return {
            "ok": True,
            "seq": len(chat.actions),
            "messages": [
                {
                    "message_id": view,
                    "zalo_message_id": m.message_id,
                    "kind": m.kind,
                    "text": self._view_text(m),
                    "buttons": [],
                    "file_name": None,
                    "has_image": m.kind == "photo" and m.photo_bytes is not None,
                    "edits": 0,
                }
                for view, m in chat.sent
            ],
            "user": [dict(item) for item in chat.user],
        }

    async def _user_messages(self, chat_id: str, after: int, wait: float, closed: asyncio.Event) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait, 0.0), MAX_USER_WAIT)
        signal = self._signal(chat_id)
        while True:
            event = signal.event
            chat = self._chats.get(chat_id)
            seq = len(chat.actions) if chat else 0
            remaining = deadline - loop.time()
            if seq > after or remaining <= 0 or self._stopping.is_set() or closed.is_set():
                break
            await _wait_any([event, self._stopping, closed], remaining)
        view = self.user_view(chat_id)
        chat = self._chats.get(chat_id)
        view["actions"] = [dict(a) for a in chat.actions[max(0, after) :]] if chat else []
        return view

    def _photo_for(self, chat_id: str, ref: str) -> tuple[bytes, str] | None:
        """A photo the bot sent, by the page's number or by the Zalo message id."""
        chat = self._chats.get(chat_id)
        for view, message in chat.sent if chat else []:
            if (str(view) == ref or message.message_id == ref) and message.photo_bytes is not None:
                return message.photo_bytes, message.photo_type or "application/octet-stream"
        return None

    # ---------------------------------------------------------------------------------- dispatch

    async def _call(self, method: str, body: dict[str, Any] | None, closed: asyncio.Event) -> tuple[int, Any]:
        """Run one API method: (HTTP status, JSON body as a dict, or an HTML page as a str)."""
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        raw_chat = body.get("chat_id") if body is not None else None
        self.calls.append((name, raw_chat if isinstance(raw_chat, str) else None))
        fault = self._take_fault(name.lower())
        if fault is not None:
            if fault.http_status is not None:
                return fault.http_status, _proxy_page(fault.http_status)
            return 200, {"ok": False, "error_code": fault.error_code, "description": fault.description}
        if entry is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        try:
            if body is None:
                raise _ApiError(400, "request body must be a JSON object")
            result = await entry[1](body, closed)
        except _ApiError as err:
            return err.http_status, {"ok": False, "error_code": err.error_code, "description": err.description}
        return 200, {"ok": True, "result": result}

    def _target(self, body: dict[str, Any]) -> _Chat:
        """The chat a send goes to: a person who has messaged the bot and not blocked it."""
        raw = body.get("chat_id")
        if not isinstance(raw, str) or not raw:
            raise _ApiError(400, "chat_id must be a non-empty string")
        chat = self._chats.get(raw)
        if chat is None:
            raise _ApiError(400, "chat not found")
        if raw in self._blocked:
            raise _ApiError(403, "user blocked the bot")
        return chat

    # ---------------------------------------------------------------------------------- methods

    async def _get_me(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        return {"id": self.bot_id, "account_name": "bot.dvc", "account_type": "BASIC", "can_join_groups": False}

    async def _get_updates(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        if self.webhook_url:
            raise _ApiError(409, _WEBHOOK_ACTIVE)
        timeout = _poll_timeout(body.get("timeout"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._inbox.event
            if self.webhook_url:
                raise _ApiError(409, _WEBHOOK_ACTIVE)
            if closed.is_set() or self._stopping.is_set():
                raise _ApiError(408, "Request timeout")  # nobody will read it: take nothing
            if self._queue:
                if self.updates_as_list:
                    batch = list(self._queue)
                    self._queue.clear()
                    return batch
                return self._queue.popleft()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise _ApiError(408, "Request timeout")
            await _wait_any([event, closed, self._stopping], remaining)

    async def _set_webhook(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        url, secret = body.get("url"), body.get("secret_token")
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            raise _ApiError(400, "url must be an http(s) URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _ApiError(400, "secret_token length must be 8-256")
        await self._cancel_webhook_task()
        self.webhook_url, self.webhook_secret = url, secret
        self._webhook_updated_at = _now_ms()
        self._inbox.notify()  # waiting long polls now answer 409
        if not self._stopping.is_set():
            self._webhook_task = asyncio.create_task(self._webhook_loop(url, secret), name="zalo-emulator-webhook")
        return {"url": url, "updated_at": self._webhook_updated_at}

    async def _delete_webhook(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        await self._cancel_webhook_task()
        if self.webhook_url:
            self._webhook_updated_at = _now_ms()
        self.webhook_url = self.webhook_secret = None
        self._inbox.notify()
        return True

    async def _get_webhook_info(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        return {"url": self.webhook_url or "", "updated_at": self._webhook_updated_at}

    async def _webhook_loop(self, url: str, secret: str) -> None:
        """Deliver queued updates in order, one at a time; an update leaves the queue once delivered
        or given up on (not when stopping mid-retry, so nothing is dropped by a shutdown)."""
        while not self._stopping.is_set():
            event = self._inbox.event
            if not self._queue:
                await _wait_any([event, self._stopping], MAX_POLL)
                continue
            update = self._queue[0]
            delivered = await self._deliver(url, secret, update)
            if (delivered or not self._stopping.is_set()) and self._queue and self._queue[0] is update:
                self._queue.popleft()

    async def _deliver(self, url: str, secret: str, update: Any) -> bool:
        payload = {"ok": True, "result": update} if self.wrap_webhook else update
        content = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": secret}
        problem = ""
        for attempt in range(_WEBHOOK_ATTEMPTS):
            if attempt:
                # A backoff pause, not an event wait: stop() cuts it short through _stopping.
                await _wait_any([self._stopping], _WEBHOOK_BACKOFF * 2 ** (attempt - 1))
            if self._stopping.is_set():
                return False
            try:
                response = await self._http().post(url, content=content, headers=headers)
            except httpx.HTTPError as exc:
                self.webhook_statuses.append(0)
                problem = f"no connection ({exc.__class__.__name__})"
                continue
            self.webhook_statuses.append(response.status_code)
            if 200 <= response.status_code < 300:
                return True
            problem = f"HTTP {response.status_code}"
        _LOG.warning(
            "Zalo emulator: webhook delivery of a %s failed %d times (%s); dropped",
            _event_name(update),
            _WEBHOOK_ATTEMPTS,
            problem,
        )
        return False

    async def _send_message(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        chat = self._target(body)
        text = body.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
            raise _ApiError(400, _TEXT_LENGTH)
        return self._store(chat, "sendMessage", "text", text)

    async def _send_photo(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        chat = self._target(body)
        caption = body.get("caption")
        if caption is None:
            caption = ""
        if not isinstance(caption, str) or len(caption) > MAX_TEXT:
            raise _ApiError(400, _CAPTION_LENGTH)
        url = body.get("photo")
        if not isinstance(url, str) or not _URL_RE.fullmatch(url):
            raise _ApiError(400, _PHOTO_INVALID)
        try:
            response = await self._http().get(url, timeout=PHOTO_FETCH_TIMEOUT, follow_redirects=True)
        except httpx.HTTPError:
            raise _ApiError(400, _PHOTO_INVALID) from None
        if response.status_code != 200:
            raise _ApiError(400, _PHOTO_INVALID)
        ctype = response.headers.get("Content-Type", "application/octet-stream")
        return self._store(chat, "sendPhoto", "photo", caption, photo=(url, response.content, ctype))

    async def _send_sticker(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        chat = self._target(body)
        sticker = body.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _ApiError(400, "sticker is invalid")
        return self._store(chat, "sendSticker", "sticker", "", sticker=sticker)

    async def _send_chat_action(self, body: dict[str, Any], closed: asyncio.Event) -> Any:
        self._target(body)
        if body.get("action") not in _CHAT_ACTIONS:
            raise _ApiError(400, "action must be typing or upload_photo")
        return True


# --------------------------------------------------------------------------------------------------
# HTTP handlers
# --------------------------------------------------------------------------------------------------


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Keep the standalone server's access log at DEBUG, the path only and the token masked."""
    request = handler.request
    path = re.sub(r"/bot[^/]+", "/bot[token]", request.path)
    _LOG.debug("%s %s -> %s", request.method, path, handler.get_status())


class _Handler(JsonHandler["ZaloEmulator"]):
    def json_body(self) -> dict[str, Any] | None:
        return self.json_object()


class _BotHandler(_Handler):
    """``/bot<token>/<method>``: the API proper (JSON bodies; GET with query arguments works too)."""

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    def _params(self) -> dict[str, Any] | None:
        values: dict[str, Any] = {
            key: items[-1].decode("utf-8", "replace") for key, items in self.request.query_arguments.items() if items
        }
        body = self.json_body()
        if body is None:
            return None
        values.update(body)
        return values

    async def _handle(self, token: str, method: str) -> None:
        emu = self.emulator
        if token != emu.token:
            self.write_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        with emu._serving():
            try:
                status, payload = await emu._call(method, self._params(), self.closed)
            except Exception:
                _LOG.exception("Zalo emulator failed handling %s", method)
                status, payload = 500, {"ok": False, "error_code": 500, "description": "Internal server error"}
            if isinstance(payload, dict) and payload.get("ok") is True and emu._take_lost(method):
                connection = self.request.connection
                if isinstance(connection, tornado.http1connection.HTTP1Connection):
                    connection.close()  # done, but the answer never reaches the bot
                return
            if isinstance(payload, str):
                if not self.closed.is_set():
                    self.set_status(status)
                    self.set_header("Content-Type", "text/html")
                    self.finish(payload)
                return
            self.write_json(status, payload)


class _MediaHandler(_Handler):
    """``GET /media/<id>.png``: the photos and stickers people send (a tiny PNG)."""

    async def get(self, media_id: str) -> None:
        if media_id not in self.emulator._media:
            self.write_json(404, {"ok": False, "description": "no such media"})
            return
        self.set_header("Content-Type", "image/png")
        self.finish(PNG)


class _UserPostHandler(_Handler):
    """``POST /user/<chat_id>/(send|press|media)``: a simulated person acting (web page, load tools)."""

    async def post(self, chat_id: str, action: str) -> None:
        if action == "press":
            self.write_json(400, {"ok": False, "description": "Zalo has no buttons: reply with the number"})
            return
        emu, body = self.emulator, self.json_body() or {}
        name = body.get("first_name")
        display_name = name.strip() if isinstance(name, str) and name.strip() else _DEFAULT_NAME
        try:
            if action == "send":
                text = body.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("text is required")
                update = emu.send_text(chat_id, text, display_name=display_name)
            else:
                kind = body.get("kind")
                if kind not in _MEDIA_KINDS:
                    raise ValueError(f"kind must be one of {sorted(_MEDIA_KINDS)}")
                if kind == "photo":
                    update = emu.send_image(chat_id, display_name=display_name)
                elif kind == "sticker":
                    update = emu.send_sticker(chat_id, display_name=display_name)
                else:
                    update = emu.send_unsupported(chat_id, str(kind), display_name=display_name)
        except ValueError as exc:
            self.write_json(400, {"ok": False, "description": str(exc)})
            return
        self.write_json(200, {"ok": True, "update_id": _update_ref(update)})


class _UserUploadHandler(_Handler):
    """``POST /user/<chat_id>/upload`` (multipart field ``file``): Zalo gives bots no documents, so an
    unsupported event."""

    async def post(self, chat_id: str) -> None:
        uploads = self.request.files.get("file")
        if not uploads or not uploads[0].filename:
            self.write_json(400, {"ok": False, "description": "multipart field 'file' is required"})
            return
        update = self.emulator.send_unsupported(chat_id, "document", label=f"📎 {uploads[0].filename}")
        self.write_json(200, {"ok": True, "update_id": _update_ref(update)})


class _UserFileHandler(_Handler):
    """``GET /user/<chat_id>/file/<message_id>``: a photo the bot sent, with the type its URL gave."""

    async def get(self, chat_id: str, ref: str) -> None:
        found = self.emulator._photo_for(chat_id, ref)
        if found is None:
            self.write_json(404, {"ok": False, "description": "no file for this message"})
            return
        data, ctype = found
        self.set_header("Content-Type", ctype)
        self.finish(data)
