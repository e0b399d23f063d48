"""Telegram through python-telegram-bot, used only as a transport.

PTB's `Bot` makes every call we send (its HTTPX transport, parameter encoding and error mapping), but
not its `Application`/`Updater`: those acknowledge an update (the next getUpdates offset, or the
webhook's 200) before the update is processed, and one update PTB cannot parse stops its polling for
good. Here an update is committed to the inbox first:

* polling: getUpdates is called raw (JSON kept as it came), the batch is stored, and only then is the
  next offset — which is what confirms the batch to Telegram — asked for;
* webhook: our own endpoint checks the secret and size before reading, stores, then answers 200.

Parsing happens later, from the stored JSON, by `parse`: a malformed update fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

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
from bot.messages import TELEGRAM_CAPS, Attachment, Inbound, Outbound
from bot.store.inbox import RawUpdate
from bot.store.outbox import OutboxItem
from bot.web import WebhookHandler

log = logging.getLogger(__name__)

# Opt in to PTB 23's timedelta durations now: without it every 429 logs a deprecation warning
# (PTB reads the variable at each call, so setting it here is enough).
os.environ.setdefault("PTB_TIMEDELTA", "1")

CHANNEL = "telegram"
COMMANDS = [
    BotCommand("start", "Bắt đầu"),
    BotCommand("menu", "Menu chính"),
    BotCommand("help", "Cách dùng"),
    BotCommand("xungho", "Cách em xưng hô với anh/chị"),
    BotCommand("requests", "Yêu cầu hỗ trợ của tôi"),
    BotCommand("mydata", "Dữ liệu em lưu về tôi"),
]
ALLOWED_UPDATES = ["message", "callback_query"]
MEDIA_KINDS = (
    "voice",
    "audio",
    "sticker",
    "photo",
    "video",
    "document",
    "location",
    "contact",
    "video_note",
    "animation",
)
# Only officers' rosters are ever fetched; anything else a person sends is answered without downloading.
ROSTER_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
# Sent, but no answer read: the request reached Telegram, which may have delivered it.
_ANSWER_LOST = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
_NOT_MODIFIED = "message is not modified"
REJECTED = "Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    token: str
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout: int = 25
    connect_backoff: float = 1.0
    max_backoff: float = 60.0
    read_timeout: float = 10.0


def file_url_for(base_url: str) -> str:
    """Where files are downloaded: https://api.telegram.org/bot → https://api.telegram.org/file/bot."""
    root, sep, tail = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{tail}" if sep else base_url


def _private_chat(message: object) -> str | None:
    if not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if isinstance(chat, dict) and chat.get("type") == "private" and chat.get("id") is not None:
        return str(chat["id"])
    return None


def receipt(update: dict[str, Any]) -> RawUpdate:
    """What is stored at once: the update id, the private chat it belongs to (for ordering), the JSON."""
    query = update.get("callback_query")
    chat = _private_chat(query.get("message")) if isinstance(query, dict) else _private_chat(update.get("message"))
    return RawUpdate(str(update["update_id"]), chat, update)


def parse_update(raw: dict[str, Any]) -> Inbound | None:
    """The plain event for a stored update, or None for what the bot ignores (groups, edits, joins)."""
    uid = str(raw["update_id"])
    query = raw.get("callback_query")
    if query is not None:
        message = query.get("message")
        chat = _private_chat(message)
        if chat is None:
            return None
        return Inbound(
            CHANNEL,
            chat,
            uid,
            "button",
            data=str(query.get("data") or ""),
            message_id=str(message["message_id"]),
            callback_id=str(query["id"]),
        )
    message = raw.get("message")
    chat = _private_chat(message)
    if chat is None or not isinstance(message, dict):
        return None
    text = message.get("text")
    contact = message.get("contact")
    if isinstance(contact, dict):  # shared with the "send my number" button (or any contact card)
        number = contact.get("phone_number")
        return Inbound(CHANNEL, chat, uid, "contact", text=str(number)[:30] if isinstance(number, str) else "")
    if not isinstance(text, str):
        kind = next((k for k in MEDIA_KINDS if message.get(k)), "other")
        document = message.get("document")
        if kind == "document" and isinstance(document, dict):
            name = str(document.get("file_name") or "")[:100]
            ref = str(document.get("file_id") or "") if name.lower().endswith(ROSTER_SUFFIXES) else ""
            size = document.get("file_size")
            return Inbound(
                CHANNEL,
                chat,
                uid,
                "unsupported",
                media=kind,
                file_ref=ref,
                file_name=name,
                file_size=size if isinstance(size, int) else 0,
            )
        photos = message.get("photo")
        if kind == "photo" and isinstance(photos, list) and photos and isinstance(photos[-1], dict):
            caption = message.get("caption")
            return Inbound(
                CHANNEL,
                chat,
                uid,
                "unsupported",
                media=kind,
                text=caption[:1024] if isinstance(caption, str) else "",
                photo_ref=str(photos[-1].get("file_id") or "")[:200],  # the largest size
            )
        return Inbound(CHANNEL, chat, uid, "unsupported", media=kind)
    if text.startswith("/") and len(text) > 1:
        head, _, payload = text[1:].partition(" ")
        command = head.split("@", 1)[0].lower()
        if command.isascii() and command.replace("_", "").isalnum():
            return Inbound(CHANNEL, chat, uid, "command", text=text, command=command, payload=payload.strip())
    return Inbound(CHANNEL, chat, uid, "text", text=text)


def markup(message: Outbound) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """Inline buttons; or the "share my number" keyboard, or its removal (a message has one or the other)."""
    if message.ask_contact:
        button = KeyboardButton(message.ask_contact, request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if message.close_keyboard and not message.buttons:
        return ReplyKeyboardRemove()
    return inline_markup(message)


def inline_markup(message: Outbound) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons]
    )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError, *, repeatable: bool) -> SendResult:
    """How a failed call ended. `repeatable`: sending it again changes nothing (an edit, an ack)."""
    if isinstance(exc, RetryAfter):
        return Retry(_seconds(exc.retry_after), "429", rate_limited=True)
    if isinstance(exc, Forbidden):
        return Unreachable("403")
    if isinstance(exc, InvalidToken):
        return Fatal(REJECTED)
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            return Unreachable("chat not found")
        return Rejected(exc.message[:200])
    if isinstance(exc, Conflict | ChatMigrated):
        return Rejected(exc.__class__.__name__)
    if isinstance(exc, TimedOut | NetworkError):
        cause = exc.__cause__
        if isinstance(cause, _ANSWER_LOST) and not repeatable:
            return Unknown(cause.__class__.__name__)
        return Retry(None, cause.__class__.__name__ if cause is not None else "server error")
    return Rejected(exc.__class__.__name__)


class _Webhook(WebhookHandler):
    secret_header = "X-Telegram-Bot-Api-Secret-Token"

    async def accept(self, body: Any) -> int:
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            return 400
        host: ChannelHost = self.extra["host"]
        await host.store(CHANNEL, [receipt(body)])
        return 200


class TelegramChannel:
    """Long polling by default; a webhook on the bot's web server when `webhook_url` is set."""

    name = CHANNEL
    caps = TELEGRAM_CAPS

    def __init__(self, options: TelegramOptions) -> None:
        self._options = options
        request = HTTPXRequest(
            connection_pool_size=16,  # httpcore checks every pooled connection on each request: keep it small
            connect_timeout=5.0,
            read_timeout=options.read_timeout,
            write_timeout=10.0,
            pool_timeout=5.0,
            media_write_timeout=60.0,
        )
        self.bot = Bot(
            options.token, base_url=options.base_url, base_file_url=file_url_for(options.base_url), request=request
        )
        # getUpdates goes through PTB's transport too, but raw: PTB's Bot.get_updates parses the batch
        # and one update it cannot parse raises for the whole batch (and logs it, personal data and all).
        self._poller = HTTPXRequest(
            connection_pool_size=1,
            connect_timeout=5.0,
            read_timeout=options.poll_timeout + 10.0,
            write_timeout=10.0,
        )
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def routes(self, host: ChannelHost) -> list[Route]:
        if not self._options.webhook_url:
            return []
        return [(r"/telegram", _Webhook, {"secret": self._options.webhook_secret or "", "host": host})]

    async def start(self, host: ChannelHost) -> None:
        self._task = asyncio.create_task(self._run(host), name="telegram")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for request in (self.bot.request, self._poller):
            try:
                await request.shutdown()
            except Exception:  # closing a client that never opened
                log.debug("telegram: transport shutdown failed")

    # ---- receiving --------------------------------------------------------------------------------

    async def _run(self, host: ChannelHost) -> None:
        try:
            await self._poller.initialize()
            if not await self._connect(host):
                return
            o = self._options
            if o.webhook_url:
                hook = o.webhook_url
                if not await self._retrying(
                    "setWebhook",
                    lambda: self.bot.set_webhook(hook, secret_token=o.webhook_secret, allowed_updates=ALLOWED_UPDATES),
                    host,
                ):
                    return
                self.ready.set()
                log.info("telegram: receiving by webhook")
                return
            if not await self._retrying("deleteWebhook", lambda: self.bot.delete_webhook(), host):
                return
            self.ready.set()
            log.info("telegram: receiving by long polling")
            await self._poll(host)
        except asyncio.CancelledError:
            raise
        except Exception:  # never silently: a channel that stopped receiving must say so
            log.exception("telegram: receiving stopped")
            host.fatal(CHANNEL, "receiving stopped after an unexpected error")

    async def _connect(self, host: ChannelHost) -> bool:
        """getMe until Telegram answers; a rejected token ends the service with a clear message."""
        if not await self._retrying("getMe (Bot API unreachable?)", self.bot.initialize, host):
            return False
        log.info("telegram: connected as @%s", self.bot.bot.username)
        try:
            await self.bot.set_my_commands(COMMANDS)
        except TelegramError as exc:  # the command menu is a nicety, not a reason to stop
            log.warning("telegram: setMyCommands failed (%s)", exc.__class__.__name__)
        return True

    async def _retrying(self, what: str, call: Any, host: ChannelHost) -> bool:
        """Call until Telegram answers; False (and the service told) when the token is rejected."""
        delay = self._options.connect_backoff
        while True:
            try:
                await call()
                return True
            except InvalidToken:
                host.fatal(CHANNEL, REJECTED)
                return False
            except TelegramError as exc:
                delay = await self._pause(what, exc, delay)

    async def _pause(self, what: str, exc: TelegramError, delay: float) -> float:
        """Wait before trying again (what a 429 asks for, else `delay`); the next delay."""
        wait = _seconds(exc.retry_after) if isinstance(exc, RetryAfter) else delay
        log.warning("telegram: %s failed (%s); retrying in %.0f s", what, _why(exc), wait)
        await asyncio.sleep(wait)
        return min(delay * 2, self._options.max_backoff)

    async def _poll(self, host: ChannelHost) -> None:
        offset: int | None = None
        delay = self._options.connect_backoff
        while True:
            try:
                result = await self._get_updates(offset)
                delay = self._options.connect_backoff
            except InvalidToken:
                host.fatal(CHANNEL, REJECTED)
                return
            except TelegramError as exc:
                # Network down, a 429, a proxy's error page; Conflict: another process polls with this
                # token, or a webhook is set. Nothing was confirmed, so nothing is lost by waiting.
                delay = await self._pause("getUpdates", exc, delay)
                continue
            updates = [u for u in result if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
            if not updates:
                continue
            try:
                await host.store(CHANNEL, [receipt(u) for u in updates])
            except Exception:  # not stored, so not confirmed: Telegram hands the batch out again
                log.exception("telegram: could not store %d updates; retrying", len(updates))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._options.max_backoff)
                continue
            offset = max(int(u["update_id"]) for u in updates) + 1

    async def _get_updates(self, offset: int | None) -> list[Any]:
        params: dict[str, Any] = {"timeout": self._options.poll_timeout, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        query = urlencode(
            {k: v if isinstance(v, int) else json.dumps(v, separators=(",", ":")) for k, v in params.items()}
        )
        url = f"{self._options.base_url}{self._options.token}/getUpdates?{query}"
        result = await self._poller.post(url, read_timeout=self._options.poll_timeout + 10.0)
        return result if isinstance(result, list) else []

    def parse(self, raw: dict[str, Any]) -> Inbound | None:
        return parse_update(raw)

    async def fetch_file(self, inbound: Inbound, max_bytes: int) -> Attachment | None:
        if not inbound.file_ref or inbound.file_size > max_bytes:
            return None
        try:
            file = await self.bot.get_file(inbound.file_ref)
            if (file.file_size or 0) > max_bytes:
                return None
            content = bytes(await file.download_as_bytearray())
        except BadRequest as exc:  # "file is too big" and friends
            log.info("telegram: file download refused (%s)", exc.message[:80])
            return None
        return Attachment(inbound.file_name or "file", content)

    # ---- sending ----------------------------------------------------------------------------------

    def deep_link(self, payload: str) -> str | None:
        """https://t.me/<bot>?start=<payload> (Telegram's deep link), once getMe told the bot's name."""
        username = self.bot.bot.username if self.ready.is_set() else None
        return f"https://t.me/{username}?start={payload}" if username else None

    async def send(self, item: OutboxItem) -> SendResult:
        message = item.message
        ack = asyncio.create_task(self._ack(item.ack, message.toast)) if item.ack else None
        try:
            if not message.text and message.attachment is None:
                return Sent(None)  # an acknowledgement only
            chat_id = int(item.to.chat_id)
            if message.edit and item.edit_id and message.attachment is None:
                return await self._edit(chat_id, int(item.edit_id), message)
            return await self._send_new(chat_id, message)
        finally:
            if ack is not None:
                await ack

    async def _ack(self, callback_id: str, toast: str | None) -> None:
        """Stop the button's spinner. Best effort: an old query cannot be answered, and that is fine."""
        try:
            await self.bot.answer_callback_query(callback_id, text=toast)
        except TelegramError as exc:
            log.debug("telegram: answerCallbackQuery failed (%s)", exc.__class__.__name__)

    async def _edit(self, chat_id: int, message_id: int, message: Outbound) -> SendResult:
        if message.ask_contact or message.close_keyboard:  # keyboards come only with a new message
            return await self._send_new(chat_id, message)
        try:
            await self.bot.edit_message_text(
                message.text, chat_id=chat_id, message_id=message_id, reply_markup=inline_markup(message)
            )
            return Sent(str(message_id))
        except BadRequest as exc:
            if _NOT_MODIFIED in exc.message.lower():  # a double tap: the message already shows this
                return Sent(str(message_id))
            log.info("telegram: edit failed (%s); sending a new message", exc.message[:80])
        except TelegramError as exc:
            return classify(exc, repeatable=True)  # an edit repeated changes nothing
        return await self._send_new(chat_id, message)

    async def _send_new(self, chat_id: int, message: Outbound) -> SendResult:
        bot, attachment = self.bot, message.attachment
        try:
            sent: Message
            if message.photo_ref:  # a photo Telegram already holds: sent by its id, nothing uploaded
                try:
                    sent = await bot.send_photo(
                        chat_id, message.photo_ref, caption=message.text[:1024] or None, reply_markup=markup(message)
                    )
                except BadRequest as exc:  # the id no longer works (another token): the text still goes
                    log.info("telegram: photo by id refused (%s); sending the text alone", exc.message[:60])
                    sent = await bot.send_message(chat_id, message.text, reply_markup=markup(message))
            elif attachment is None:
                sent = await bot.send_message(chat_id, message.text, reply_markup=markup(message))
            elif attachment.is_image:
                sent = await bot.send_photo(
                    chat_id,
                    attachment.content,
                    caption=message.text or None,
                    reply_markup=markup(message),
                    filename=attachment.name,
                )
            else:
                sent = await bot.send_document(
                    chat_id,
                    attachment.content,
                    caption=message.text or None,
                    reply_markup=markup(message),
                    filename=attachment.name,
                )
        except TelegramError as exc:
            return classify(exc, repeatable=False)
        return Sent(str(sent.message_id))


def _why(exc: BaseException) -> str:
    """An error's class (and its cause's), never its message: messages can carry URLs with the token."""
    cause = exc.__cause__
    return f"{exc.__class__.__name__}/{cause.__class__.__name__}" if cause is not None else exc.__class__.__name__
