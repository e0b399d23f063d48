"""The running service: channels, the inbox intake, one sender per channel, the background worker,
the web server and the scheduler, started and stopped in the right order.

Used by `dvcbot run`, `dvcbot demo`, the end-to-end tests and the benchmarks, so they all exercise the
same message path: channel → inbox (committed) → acknowledged → turn → outbox (same transaction) →
sender → platform.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.app import Core, build_core
from bot.channels.base import Channel
from bot.config import Settings
from bot.engine import utc_now
from bot.intake import Intake
from bot.links import routes as file_routes
from bot.sender import Limits, Sender
from bot.store.inbox import RawUpdate
from bot.store.outbox import OutboxItem
from bot.web import WebServer
from bot.worker import Worker

log = logging.getLogger(__name__)


class Service:
    """Implements `ChannelHost` for its channels (store, fatal) and routes outbox rows to senders."""

    def __init__(
        self,
        core: Core,
        channels: Sequence[Channel],
        *,
        web: WebServer | None = None,
        limits: dict[str, Limits] | None = None,
        scheduler: bool = True,
    ) -> None:
        self.core = core
        self.channels = {channel.name: channel for channel in channels}
        self.web = web
        self.intake = Intake(core.db, core.engine, self.channels, self.deliver)
        self.senders = {
            name: Sender(
                core.db, channel, (limits or {}).get(name, Limits()), core.services.clock, self.deliver, self.fatal
            )
            for name, channel in self.channels.items()
        }
        self.worker = Worker(core.db, core.services, core.router.tasks, core.engine.notify, self.deliver)
        self._with_scheduler = scheduler
        self._scheduler: object | None = None
        self._done = asyncio.Event()
        self.failure: str | None = None
        core.engine.on_outbox = self.deliver
        for channel in channels:
            core.services.deep_links[channel.name] = channel.deep_link
        core.services.signals.connect("outbox_cancelled", self._drop_cancelled)
        self._background: set[asyncio.Task[int]] = set()

    # ---- ChannelHost ---------------------------------------------------------------------------------

    async def store(self, channel: str, updates: Sequence[RawUpdate]) -> None:
        await self.intake.store(channel, updates)

    def fatal(self, channel: str, reason: str) -> None:
        if self.failure is None:
            self.failure = f"{channel}: {reason}"
            log.error("%s", self.failure)
        self._done.set()

    def _watch(self, task: asyncio.Task[None]) -> None:
        """The intake loop never ends on its own: if it does, nothing would be answered any more."""
        if not task.cancelled() and task.exception() is not None:
            self.fatal("intake", f"processing stopped ({type(task.exception()).__name__})")

    # ---- routing -------------------------------------------------------------------------------------

    def deliver(self, items: list[OutboxItem]) -> None:
        by_channel: dict[str, list[OutboxItem]] = {}
        for item in items:
            by_channel.setdefault(item.to.channel, []).append(item)
        for name, theirs in by_channel.items():
            sender = self.senders.get(name)
            if sender is not None:  # a channel not running here: the rows wait in the outbox
                sender.push(theirs)

    def _drop_cancelled(self) -> None:
        """An announcement was called off: its rows already in the senders' queues stay unsent."""
        for sender in self.senders.values():
            task = asyncio.get_running_loop().create_task(sender.drop_cancelled())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    # ---- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.web is not None:
            for channel in self.channels.values():
                self.web.add(channel.routes(self))
            links = self.core.services.links
            if links is not None and any(not c.caps.uploads for c in self.channels.values()):
                self.web.add(file_routes(links, self.core.db, self.core.services.clock))
            if self.web.needed:
                await self.web.start()
        for sender in self.senders.values():
            await sender.start()
        await self.intake.start()
        intake = self.intake.task
        if intake is not None:
            intake.add_done_callback(self._watch)
        await self.worker.start()
        if self._with_scheduler:
            from scheduler.app import build_scheduler

            scheduler = build_scheduler(self.core)
            scheduler.start()
            self._scheduler = scheduler
        for channel in self.channels.values():
            await channel.start(self)
        log.info("serving commune %s on %s", self.core.services.content.commune.code, ", ".join(self.channels))

    async def wait(self, stop: asyncio.Event | None = None) -> str | None:
        """Until `stop` is set or a channel fails for good; the failure, if any."""
        waiters = [asyncio.create_task(self._done.wait())]
        if stop is not None:
            waiters.append(asyncio.create_task(stop.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self.failure

    async def stop(self) -> None:
        """Stop receiving first, then finish the turn in progress, then let sends in flight land."""
        for channel in self.channels.values():
            await _bounded(channel.stop(), "channel")
        if self.web is not None and self.web.needed:
            await _bounded(self.web.stop(), "web server")
        await _bounded(self.intake.stop(), "intake")
        self.core.services.heavy.close()  # an export half-way is redone at the next start
        await _bounded(self.worker.stop(), "worker")
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)  # type: ignore[attr-defined]
        for sender in self.senders.values():
            await _bounded(sender.stop(), "sender")
        for channel in self.channels.values():
            await _bounded(channel.close(), "channel transport")
        await self.core.close()


async def _bounded(step: object, what: str, seconds: float = 15.0) -> None:
    """Shutdown never hangs: a step that takes too long is abandoned (its work resumes at start-up)."""
    try:
        await asyncio.wait_for(step, timeout=seconds)  # type: ignore[arg-type]
    except TimeoutError:
        log.error("stopping the %s took longer than %.0f s; abandoned", what, seconds)


def telegram_limits(settings: Settings) -> Limits:
    return Limits(per_second=settings.telegram_send_rate, bulk_chat_interval=settings.bulk_chat_interval)


def zalo_limits(settings: Settings) -> Limits:
    """Zalo publishes no limit: the rate is a setting; a 429 still pauses like on Telegram."""
    return Limits(per_second=settings.zalo_send_rate, bulk_chat_interval=settings.bulk_chat_interval)


async def build_service(
    settings: Settings,
    channels: Callable[[Settings], Sequence[Channel]],
    *,
    clock: Callable[[], datetime] = utc_now,
    limits: dict[str, Limits] | None = None,
    scheduler: bool = True,
) -> Service:
    core = await build_core(settings, clock=clock)
    web = WebServer(settings.web_listen, settings.web_port)
    return Service(
        core,
        channels(settings),
        web=web,
        limits=limits or {"telegram": telegram_limits(settings), "zalo": zalo_limits(settings)},
        scheduler=scheduler,
    )
