"""What every messenger adapter implements, and what one delivery attempt can end in.

A channel translates and nothing more: raw platform updates in (stored through the host *before* the
platform is acknowledged), `Inbound` events out of `parse`, and `OutboxItem`s turned into platform calls
by `send`, which never raises but says how the attempt ended:

    Sent(message_id)     delivered; the platform's id of the message (edits of it use that id)
    Retry(after)         not delivered; try again later (429 with its `after`, 5xx, network down)
    Unknown(reason)      the request went out and no answer came back: it may well have arrived,
                         so it is not sent again (README, "What can be sent twice")
    Unreachable(reason)  the person blocked the bot or no longer exists: stop sending to them
    Rejected(reason)     the platform refused this message for good
    Fatal(reason)        the channel cannot work at all (its token was rejected): stop the service
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import tornado.web

from bot.messages import Attachment, ChannelCaps, Inbound
from bot.store.inbox import RawUpdate
from bot.store.outbox import OutboxItem


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Retry:
    after: float | None  # seconds the platform asked for; None = the sender's own backoff
    reason: str
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


@dataclass(frozen=True, slots=True)
class Fatal:
    reason: str


SendResult = Sent | Retry | Unknown | Unreachable | Rejected | Fatal

Route = tuple[str, type[tornado.web.RequestHandler], dict[str, Any]]


class ChannelHost(Protocol):
    """What a running channel may call back: store updates (committed when this returns), or give up."""

    async def store(self, channel: str, updates: Sequence[RawUpdate]) -> None: ...

    def fatal(self, channel: str, reason: str) -> None: ...


class Channel(Protocol):
    """A messenger. `start` returns at once; connecting (with retries) goes on in the background and
    `ready` is set once the platform accepted the token."""

    name: str
    caps: ChannelCaps
    ready: asyncio.Event

    def routes(self, host: ChannelHost) -> list[Route]:
        """HTTP routes this channel serves on the bot's web server (its webhook), if any."""
        ...

    async def start(self, host: ChannelHost) -> None: ...

    async def stop(self) -> None:
        """Stop receiving. Sending still works until `close` (the senders finish their work first)."""
        ...

    async def close(self) -> None:
        """Release the transport, after the last send."""
        ...

    def parse(self, raw: dict[str, Any]) -> Inbound | None:
        """The plain event for a stored update; None for what the bot ignores. May raise on garbage."""
        ...

    async def fetch_file(self, inbound: Inbound, max_bytes: int) -> Attachment | None:
        """The file an update refers to, or None when the platform will not hand it over."""
        ...

    async def send(self, item: OutboxItem) -> SendResult: ...

    def deep_link(self, payload: str) -> str | None:
        """A link that opens a chat with the bot and sends /start `payload`; None until connected."""
        ...


class FatalChannelError(Exception):
    """A channel cannot run (e.g. its token was rejected); the message is safe to print."""
