"""Telegram through python-telegram-bot, used only as a transport.

One `TypeHandler` forwards every update to the engine; replies go back with edits where Telegram
allows them. PTB's `AIORateLimiter` keeps sends under Telegram's limits and retries 429s; transient
network errors (time-outs, 5xx) are retried here a few times, and only those are swallowed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import ParamSpec, TypeVar

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.engine import Engine
from bot.messages import Attachment, Inbound, Outbound

log = logging.getLogger(__name__)

# Opt in to PTB 23's timedelta durations now: without it every 429 logs a deprecation warning
# (PTB reads the variable at each call, so setting it here is enough).
os.environ.setdefault("PTB_TIMEDELTA", "1")

CHANNEL = "telegram"
COMMANDS = [
    BotCommand("start", "Bắt đầu"),
    BotCommand("menu", "Menu chính"),
    BotCommand("help", "Cách dùng"),
]
SEND_ATTEMPTS = 3
# Telegram bots may download files up to 20 MB; only rosters (CSV/XLSX) are fetched at all.
MAX_DOWNLOAD = 20 * 1024 * 1024
ROSTER_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    token: str
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    poll_timeout: int = 10
    # Telegram's documented ceiling for one bot; 0 disables the limiter (local emulator benchmarks).
    overall_max_rate: float = 30
    retry_delay: float = 0.5


def to_inbound(update: Update) -> Inbound | None:
    """The plain event for an update, or None for what the bot ignores (groups, edits, joins)."""
    uid = str(update.update_id)
    query = update.callback_query
    if query is not None:
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return None
        return Inbound(
            CHANNEL,
            str(message.chat.id),
            uid,
            "button",
            data=query.data or "",
            message_id=str(message.message_id),
        )
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    chat = str(message.chat.id)
    text = message.text
    if text is None:
        kind = next(
            (
                k
                for k in (
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
                if getattr(message, k, None)
            ),
            "other",
        )
        return Inbound(CHANNEL, chat, uid, "unsupported", media=kind)
    if text.startswith("/") and len(text) > 1:
        head, _, payload = text[1:].partition(" ")
        command = head.split("@", 1)[0].lower()
        if command.isascii() and command.replace("_", "").isalnum():
            return Inbound(CHANNEL, chat, uid, "command", text=text, command=command, payload=payload.strip())
    return Inbound(CHANNEL, chat, uid, "text", text=text)


def file_url_for(base_url: str) -> str:
    """Where files are downloaded: https://api.telegram.org/bot → https://api.telegram.org/file/bot."""
    root, sep, tail = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{tail}" if sep else base_url


def markup(message: Outbound) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in message.buttons]
    )


class TelegramChannel:
    """Runs a PTB `Application` (long polling, or a webhook with a secret token) in front of the engine."""

    def __init__(self, engine: Engine, options: TelegramOptions) -> None:
        self._engine = engine
        self._options = options
        limiter = AIORateLimiter(overall_max_rate=options.overall_max_rate, max_retries=3)
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(options.token)
            .base_url(options.base_url)
            .base_file_url(file_url_for(options.base_url))
            .rate_limiter(limiter)
            # Bounded: SQLite has one writer, so more in-flight updates only queue on the database lock.
            .concurrent_updates(16)
            .get_updates_read_timeout(options.poll_timeout + 10)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        try:
            await app.bot.set_my_commands(COMMANDS)
        except (NetworkError, BadRequest) as exc:  # the menu of commands is a nicety, not a reason to stop
            log.warning("setMyCommands failed: %s", exc.__class__.__name__)
        await app.start()
        updater = app.updater
        assert updater is not None
        o = self._options
        if o.webhook_url:
            await updater.start_webhook(
                listen=o.webhook_listen,
                port=o.webhook_port,
                url_path="telegram",
                webhook_url=o.webhook_url,
                secret_token=o.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
        else:
            await updater.start_polling(
                poll_interval=0, timeout=o.poll_timeout, allowed_updates=["message", "callback_query"]
            )

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Forward the update to the engine, then deliver its replies."""
        inbound = to_inbound(update)
        if inbound is None:
            return
        if inbound.kind == "unsupported" and inbound.media == "document":
            inbound = await self._with_file(update, inbound)
        replies = await self._engine.handle(inbound)
        delivery = self.deliver(int(inbound.chat_id), replies, inbound.message_id)
        query = update.callback_query
        if query is None:
            await delivery
            return
        # Stop the button's spinner while the reply is being sent, not after.
        toast = next((r.toast for r in replies if r.toast), None)
        await asyncio.gather(self._call(query.answer, toast), delivery)

    async def _with_file(self, update: Update, inbound: Inbound) -> Inbound:
        """Fetch a roster-like document (CSV/XLSX, ≤ 20 MB) so the engine can read it; others stay unsupported."""
        document = update.message.document if update.message else None
        name = (document.file_name or "") if document else ""
        if document is None or not name.lower().endswith(ROSTER_SUFFIXES):
            return inbound
        if not await self._engine.allows(inbound.channel, inbound.chat_id, "roster.import"):
            return inbound  # only officers' files are fetched at all
        if (document.file_size or 0) > MAX_DOWNLOAD:
            return replace(inbound, kind="file", media="too_big")
        try:
            file = await self._call(document.get_file)
            content = bytes(await self._call(file.download_as_bytearray))
        except BadRequest as exc:  # "file is too big" and friends: tell the person, don't crash
            log.info("document download refused: %s", exc.message)
            return replace(inbound, kind="file", media="too_big")
        return replace(inbound, kind="file", file=Attachment(name[:100], content))

    async def deliver(self, chat_id: int, replies: list[Outbound], edit_message_id: str | None = None) -> None:
        """Send replies in order; the first one marked `edit` replaces the pressed message."""
        bot = self.application.bot
        for reply in replies:
            if reply.edit and edit_message_id is not None:
                target, edit_message_id = int(edit_message_id), None
                try:
                    await self._call(
                        bot.edit_message_text,
                        reply.text,
                        chat_id=chat_id,
                        message_id=target,
                        reply_markup=markup(reply),
                    )
                    continue
                except BadRequest as exc:
                    if "not modified" in exc.message:  # a double tap: the message already shows this
                        continue
                    log.info("edit failed (%s); sending a new message", exc.message)
            await self._send(chat_id, reply)

    async def _send(self, chat_id: int, reply: Outbound) -> Message:
        bot = self.application.bot
        attachment = reply.attachment
        if attachment is None:
            return await self._call(bot.send_message, chat_id, reply.text, reply_markup=markup(reply))
        if attachment.is_image:
            return await self._call(
                bot.send_photo,
                chat_id,
                attachment.content,
                caption=reply.text[:1024],
                reply_markup=markup(reply),
                filename=attachment.name,
            )
        return await self._call(
            bot.send_document,
            chat_id,
            attachment.content,
            caption=reply.text[:1024],
            reply_markup=markup(reply),
            filename=attachment.name,
        )

    async def _call(self, method: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a Bot method, retrying transient network failures; other errors propagate."""
        attempt = 1
        while True:
            try:
                return await method(*args, **kwargs)
            except RetryAfter:
                raise  # the rate limiter already waited and retried
            except (TimedOut, NetworkError) as exc:
                # BadRequest and friends are NetworkError subclasses too, but retrying cannot fix them.
                if isinstance(exc, BadRequest) or attempt == SEND_ATTEMPTS:
                    raise
                log.warning(
                    "telegram %s failed (%s), retry %d",
                    getattr(method, "__name__", "call"),
                    exc.__class__.__name__,
                    attempt,
                )
                await asyncio.sleep(self._options.retry_delay * 2 ** (attempt - 1))
                attempt += 1

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Last resort: log with the update id only (no text, no person)."""
        uid = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed: %r", uid, context.error.__class__.__name__, exc_info=context.error)
