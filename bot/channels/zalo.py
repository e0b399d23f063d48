"""Zalo through the Zalo Bot Platform's HTTP API (https://bot-api.zaloplatforms.com/bot<TOKEN>/<method>).

A thin client (httpx, JSON in and out) and an adapter like the Telegram one: raw updates are stored
through the host before anything confirms them, `parse` turns a stored update into an `Inbound`, and
`send` turns an outbox row into one call. The platform has no buttons, edits, documents or groups for
these bots: the core already gave this channel numbered menus, split texts and file links
(`bot.render`, `bot.files`), so what reaches `send` is a text or a photo by URL.

How updates are confirmed differs from Telegram, and it matters for "nothing acknowledged is lost":

* webhook (`webhook_url` set; the production mode): the secret header is checked before the body is
  read, the update is committed to the inbox, and only then does Zalo get its 200 — a crash before the
  commit means Zalo retries;
* long polling: getUpdates has no offset; the platform forgets an update once it handed it out. The
  update is committed before the next poll, so only a crash between the answer arriving and the commit
  (milliseconds) can lose one. The README says to use the webhook where that matters.

Zalo has no update id: an update is named by its event and message id, so a redelivered one is
recognised by the inbox. Errors are answered sometimes as HTTP errors and sometimes inside a 200
(`{"ok": false, "error_code": ...}`); both are read the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bot.channels.base import (
    ChannelHost,
    Fatal,
    Rejected,
    Retry,
    Route,
    SendResult,
    Sent,
    Unknown,
    Unreachable,
)
from bot.messages import ZALO_BOT_CAPS, Attachment, Inbound
from bot.store.inbox import RawUpdate
from bot.store.outbox import OutboxItem
from bot.web import WebhookHandler

log = logging.getLogger(__name__)

CHANNEL = "zalo"
REJECTED = "Zalo rejected ZALO_BOT_TOKEN (check it in the Zalo Bot Manager)"
POLL_EMPTY = 408  # getUpdates' answer when nothing came during the poll
TEXT_EVENTS = {"message.text.received"}
KNOWN_EVENTS = {
    "message.text.received": "text",
    "message.image.received": "photo",
    "message.sticker.received": "sticker",
    "message.unsupported.received": "other",
}
MAX_TEXT = 2000
# Sent, but no answer read: the request reached Zalo, which may have delivered it.
_ANSWER_LOST = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)


@dataclass(frozen=True, slots=True)
class ZaloOptions:
    token: str
    base_url: str = "https://bot-api.zaloplatforms.com/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout: int = 30
    connect_backoff: float = 1.0
    max_backoff: float = 60.0
    read_timeout: float = 15.0


class ZaloApiError(Exception):
    """An answer with ok=false (or an HTTP error): Zalo's code and a short description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code} {description[:100]}")
        self.code = code
        self.description = description[:200]


class ZaloClient:
    """POST JSON to `<base_url><token>/<method>` and return `result`; errors raise `ZaloApiError`.

    httpx errors (no connection, no answer) propagate as they are, so the caller can tell "never
    sent" from "sent, answer lost".
    """

    def __init__(self, options: ZaloOptions) -> None:
        self._prefix = f"{options.base_url}{options.token}/"
        self._read_timeout = options.read_timeout
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(connect=5.0, read=options.read_timeout, write=10.0, pool=5.0),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, *, read_timeout: float | None = None
    ) -> Any:
        timeout = httpx.Timeout(connect=5.0, read=read_timeout or self._read_timeout, write=10.0, pool=5.0)
        response = await self._http.post(self._prefix + method, json=payload or {}, timeout=timeout)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):  # a proxy's error page, an empty answer
            raise ZaloApiError(response.status_code if response.status_code >= 400 else 502, "not JSON")
        if body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code")
        description = body.get("description")
        raise ZaloApiError(
            code if isinstance(code, int) else response.status_code, description if isinstance(description, str) else ""
        )

    async def close(self) -> None:
        await self._http.aclose()


def unwrap(body: Any) -> dict[str, Any] | None:
    """The update in a webhook body or a poll's result: `{event_name, message}`, possibly wrapped in
    `{"ok": true, "result": {...}}`; None for anything else."""
    if isinstance(body, dict) and "event_name" not in body and isinstance(body.get("result"), dict):
        body = body["result"]
    if isinstance(body, dict) and isinstance(body.get("event_name"), str) and isinstance(body.get("message"), dict):
        return body
    return None


def update_id(update: dict[str, Any]) -> str | None:
    """Event name + message id: Zalo's updates have no id of their own."""
    message = update["message"]
    mid = message.get("message_id")
    if not isinstance(mid, str | int) or not str(mid):
        return None
    return f"{update['event_name']}:{str(mid)[:80]}"


def _private_chat(message: dict[str, Any]) -> str | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("id") in (None, ""):
        return None
    kind = chat.get("chat_type")
    if kind is not None and str(kind).upper() != "PRIVATE":
        return None  # groups: these bots are not in any, and the bot answers only private chats
    return str(chat["id"])[:64]


def receipt(update: dict[str, Any]) -> RawUpdate | None:
    """What is stored at once: the id, the private chat it belongs to (for ordering), the JSON."""
    uid = update_id(update)
    if uid is None:
        return None
    return RawUpdate(uid, _private_chat(update["message"]), update)


def parse_update(raw: dict[str, Any]) -> Inbound | None:
    """The plain event for a stored update, or None for what the bot ignores (other events, groups, bots)."""
    update = unwrap(raw)
    if update is None:
        return None
    uid = update_id(update)
    message: dict[str, Any] = update["message"]
    chat = _private_chat(message)
    sender = message.get("from")
    if uid is None or chat is None or (isinstance(sender, dict) and sender.get("is_bot") is True):
        return None
    kind = KNOWN_EVENTS.get(update["event_name"])
    if kind is None:
        return None
    if kind == "text":
        text = message.get("text")
        if not isinstance(text, str):
            return Inbound(CHANNEL, chat, uid, "unsupported", media="other")
        if text.startswith("/") and len(text) > 1:
            head, _, payload = text[1:].partition(" ")
            command = head.lower()
            if command.isascii() and command.replace("_", "").isalnum():
                return Inbound(CHANNEL, chat, uid, "command", text=text, command=command, payload=payload.strip())
        return Inbound(CHANNEL, chat, uid, "text", text=text)
    if kind == "photo":
        caption = message.get("caption")
        url = next((message[k] for k in ("photo_url", "url", "photo") if isinstance(message.get(k), str)), "")
        return Inbound(
            CHANNEL,
            chat,
            uid,
            "unsupported",
            media="photo",
            text=caption[:1024] if isinstance(caption, str) else "",
            photo_ref=url[:500] if url.startswith("https://") or url.startswith("http://") else "",
        )
    return Inbound(CHANNEL, chat, uid, "unsupported", media=kind)


def classify(exc: ZaloApiError) -> SendResult:
    """How a refused call ended. Zalo publishes no rate limit: 429 waits, 5xx and unknowns retry."""
    if exc.code == 429:
        return Retry(None, "429", rate_limited=True)
    if exc.code == 401:
        return Fatal(REJECTED)
    if exc.code == 403:
        return Unreachable("403")
    if exc.code == 404 or (exc.code == 400 and "chat not found" in exc.description.lower()):
        return Unreachable("chat not found")
    if exc.code in (400, 413):
        return Rejected(f"{exc.code} {exc.description[:150]}")
    return Retry(None, str(exc.code))


class _Webhook(WebhookHandler):
    secret_header = "X-Bot-Api-Secret-Token"

    async def accept(self, body: Any) -> int:
        update = unwrap(body)
        stored = receipt(update) if update is not None else None
        if stored is None:
            return 400
        host: ChannelHost = self.extra["host"]
        await host.store(CHANNEL, [stored])
        return 200


class ZaloChannel:
    """Long polling by default; a webhook on the bot's web server when `webhook_url` is set."""

    name = CHANNEL
    caps = ZALO_BOT_CAPS

    def __init__(self, options: ZaloOptions) -> None:
        self._options = options
        self.client = ZaloClient(options)
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.account = ""

    def routes(self, host: ChannelHost) -> list[Route]:
        if not self._options.webhook_url:
            return []
        return [(r"/zalo", _Webhook, {"secret": self._options.webhook_secret or "", "host": host})]

    async def start(self, host: ChannelHost) -> None:
        self._task = asyncio.create_task(self._run(host), name="zalo")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        await self.client.close()

    # ---- receiving --------------------------------------------------------------------------------

    async def _run(self, host: ChannelHost) -> None:
        try:
            me = await self._retrying("getMe (Zalo Bot API unreachable?)", "getMe", None, host)
            if me is None:
                return
            name = me.get("account_name") if isinstance(me, dict) else None
            self.account = str(name) if name else ""
            o = self._options
            if o.webhook_url:
                hook = {"url": o.webhook_url, "secret_token": o.webhook_secret or ""}
                if await self._retrying("setWebhook", "setWebhook", hook, host) is None:
                    return
                self.ready.set()
                log.info("zalo: receiving by webhook")
                return
            if await self._retrying("deleteWebhook", "deleteWebhook", None, host) is None:
                return
            self.ready.set()
            log.info("zalo: receiving by long polling")
            await self._poll(host)
        except asyncio.CancelledError:
            raise
        except Exception:  # never silently: a channel that stopped receiving must say so
            log.exception("zalo: receiving stopped")
            host.fatal(CHANNEL, "receiving stopped after an unexpected error")

    async def _retrying(self, what: str, method: str, payload: dict[str, Any] | None, host: ChannelHost) -> Any:
        """Call until Zalo answers (the result, or True); None once the token is rejected."""
        delay = self._options.connect_backoff
        while True:
            try:
                result = await self.client.call(method, payload)
                return True if result is None else result
            except ZaloApiError as exc:
                if exc.code == 401:
                    host.fatal(CHANNEL, REJECTED)
                    return None
                delay = await self._pause(what, str(exc.code), delay)
            except httpx.HTTPError as exc:
                delay = await self._pause(what, exc.__class__.__name__, delay)

    async def _pause(self, what: str, why: str, delay: float) -> float:
        log.warning("zalo: %s failed (%s); retrying in %.1f s", what, why, delay)
        await asyncio.sleep(delay)
        return min(delay * 2, self._options.max_backoff)

    async def _poll(self, host: ChannelHost) -> None:
        delay = self._options.connect_backoff
        timeout = self._options.poll_timeout
        while True:
            try:
                result = await self.client.call("getUpdates", {"timeout": str(timeout)}, read_timeout=timeout + 10.0)
                delay = self._options.connect_backoff
            except ZaloApiError as exc:
                if exc.code == POLL_EMPTY:
                    delay = self._options.connect_backoff
                    continue  # nothing came: poll again at once
                if exc.code == 401:
                    host.fatal(CHANNEL, REJECTED)
                    return
                # 409: a webhook is set (another deployment?), 429, 5xx: nothing was handed out.
                delay = await self._pause("getUpdates", str(exc.code), delay)
                continue
            except httpx.HTTPError as exc:
                delay = await self._pause("getUpdates", exc.__class__.__name__, delay)
                continue
            batch = result if isinstance(result, list) else [result]
            receipts = [r for r in (receipt(u) for u in map(unwrap, batch) if u is not None) if r is not None]
            if len(receipts) < len(batch):
                log.warning("zalo: %d update(s) without an event or message id ignored", len(batch) - len(receipts))
            if receipts:
                await self._store(host, receipts)

    async def _store(self, host: ChannelHost, receipts: list[RawUpdate]) -> None:
        """Zalo will not hand these out again: keep trying to store them before polling on."""
        delay = self._options.connect_backoff
        while True:
            try:
                await host.store(CHANNEL, receipts)
                return
            except Exception:
                log.exception("zalo: could not store %d update(s); retrying", len(receipts))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._options.max_backoff)

    def parse(self, raw: dict[str, Any]) -> Inbound | None:
        return parse_update(raw)

    async def fetch_file(self, inbound: Inbound, max_bytes: int) -> Attachment | None:
        return None  # these bots receive no documents; rosters come through Telegram or the CLI

    def deep_link(self, payload: str) -> str | None:
        return None  # Zalo bots have no start payloads: people type the code (/join ABCD-EFGH)

    # ---- sending ----------------------------------------------------------------------------------

    async def send(self, item: OutboxItem) -> SendResult:
        message = item.message
        chat = item.to.chat_id
        photo = message.photo_url or (message.photo_ref if message.photo_ref.startswith("https://") else "")
        if photo:
            payload: dict[str, Any] = {"chat_id": chat, "photo": photo}
            if message.text:
                payload["caption"] = message.text[:MAX_TEXT]
            method = "sendPhoto"
        elif message.text:
            payload, method = {"chat_id": chat, "text": message.text[:MAX_TEXT]}, "sendMessage"
        else:
            return Sent(None)  # an acknowledgement only (a pressed number needs none) or a dropped file
        try:
            result = await self.client.call(method, payload)
        except ZaloApiError as exc:
            if method == "sendPhoto" and exc.code == 400 and message.text:
                # The link could not be fetched (expired, base URL unreachable): the text still goes.
                log.info("zalo: photo by URL refused (%s); sending the text alone", exc.code)
                return await self.send(_text_only(item))
            return classify(exc)
        except _ANSWER_LOST as exc:
            return Unknown(exc.__class__.__name__)
        except httpx.HTTPError as exc:
            return Retry(None, exc.__class__.__name__)
        mid = result.get("message_id") if isinstance(result, dict) else None
        return Sent(str(mid) if mid is not None else None)


def _text_only(item: OutboxItem) -> OutboxItem:
    return replace(item, message=replace(item.message, photo_url="", photo_ref=""))
