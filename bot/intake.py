"""Intake: updates are committed to the inbox before the platform is acknowledged, then run as turns
in arrival order per chat.

Turns are short (their SQL runs in microseconds), so they run one after another on the loop. The only
slow step, fetching and parsing an officer's roster file, happens in its own task: that chat waits (its
later updates stay behind it, in order) while every other chat goes on.

An update that cannot be parsed is logged once (ids only), marked failed and skipped. When the database
itself fails (a disk error, another process holding the lock too long), the update goes back to the head
of its chat's queue and is tried again with backoff — it is never dropped. Rows left pending by the last
run have an attempt counted before they run again; one that took the process down three start-ups in a
row is given up (logged), so a crash loop cannot stop the bot for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot.channels.base import Channel
from bot.engine import Engine
from bot.messages import Inbound
from bot.roster import MAX_BYTES as MAX_FILE
from bot.store import Database, inbox
from bot.store.inbox import InboxItem, RawUpdate
from bot.store.outbox import OutboxItem

log = logging.getLogger(__name__)
SLICE = 0.005  # seconds of turns between two yields to the event loop
BACKOFF = 0.5
MAX_BACKOFF = 30.0


class Intake:
    """The inbox side of the service: `store` (called by channels) and the processing loop."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        channels: Mapping[str, Channel],
        deliver: Callable[[list[OutboxItem]], None],
    ) -> None:
        self._db = db
        self._engine = engine
        self._channels = channels
        self._deliver = deliver
        self._queue: deque[InboxItem] = deque()
        self._waiting: dict[str, deque[InboxItem]] = {}
        self._busy: set[str] = set()
        self._recovered: set[int] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._current: asyncio.Future[None] | None = None
        self._backoff = BACKOFF

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    async def store(self, channel: str, updates: Sequence[RawUpdate]) -> None:
        """Commit updates to the inbox, durably; when this returns the channel may acknowledge them."""
        async with self._db.transaction() as conn:
            new = await inbox.add(conn, channel, updates, self._engine.services.clock())
        if new:  # turns may run meanwhile: only the acknowledgement waits for the disk
            self._queue.extend(new)
            self._wake.set()
        await self._db.sync()

    async def start(self) -> None:
        """Pick up what was stored but not processed before the last stop or crash, then run."""
        async with self._db.transaction() as conn:
            pending, dropped = await inbox.recover(conn, self._engine.services.clock(), set(self._channels))
        for item_id in dropped:
            log.error("inbox %d: pending through %d start-ups; skipped", item_id, inbox.MAX_ATTEMPTS)
        if pending:
            log.info("resuming %d stored updates", len(pending))
        self._recovered = {item.id for item in pending}
        self._queue.extendleft(reversed(pending))
        self._task = asyncio.create_task(self._run(), name="intake")
        self._wake.set()

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bound on shutdown, not a request timeout
        """Let the turn in progress finish; what is still queued stays pending for the next start."""
        task, self._task = self._task, None
        if task is not None:
            current = self._current
            if current is not None:
                await asyncio.wait([current], timeout=timeout)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for side in list(self._side_tasks):
            side.cancel()
        await asyncio.gather(*self._side_tasks, return_exceptions=True)

    @property
    def backlog(self) -> int:
        return len(self._queue) + sum(len(q) for q in self._waiting.values())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            slice_end = loop.time() + SLICE
            while self._queue:
                item = self._queue.popleft()
                chat = _chat(item)
                if chat in self._busy:
                    self._waiting.setdefault(chat, deque()).append(item)
                    continue
                self._current = loop.create_future()
                try:
                    await self._process(item, chat)
                    self._backoff = BACKOFF
                except Exception:
                    # The database failed us (not the update: parse and step errors are handled inside).
                    # Keep the update, and its chat's order, and try again a little later.
                    log.exception("inbox %d: could not be processed; retrying in %.1f s", item.id, self._backoff)
                    self._queue.appendleft(item)
                    await asyncio.sleep(self._backoff)
                    self._backoff = min(self._backoff * 2, MAX_BACKOFF)
                finally:
                    self._current.set_result(None)
                    self._current = None
                if loop.time() > slice_end:
                    # A turn never suspends, so yield now and then: receiving and sending go on. Not after
                    # every turn: under load one loop iteration is milliseconds, which would cap the turns.
                    await asyncio.sleep(0)
                    slice_end = loop.time() + SLICE

    async def _process(self, item: InboxItem, chat: str) -> None:
        if item.id in self._recovered:  # left pending by the last run: count this attempt first
            async with self._db.transaction() as conn:
                await inbox.started(conn, item.id)
            self._recovered.discard(item.id)
        channel = self._channels.get(item.channel)
        inbound: Inbound | None = None
        try:
            if channel is None or item.payload is None:
                raise ValueError("nothing to parse")
            inbound = channel.parse(item.payload)
        except Exception as exc:
            log.error("inbox %d: %s update could not be parsed (%s); skipped", item.id, item.channel, _name(exc))
            async with self._db.transaction() as conn:
                await inbox.fail(conn, item.id, self._engine.services.clock())
            return
        if inbound is None:  # something the bot ignores (a group, an edit): done, nothing to say
            async with self._db.transaction() as conn:
                await inbox.claim(conn, item.id, self._engine.services.clock())
            return
        if inbound.file_ref and channel is not None:
            self._busy.add(chat)
            task = asyncio.create_task(self._with_file(item, inbound, channel, chat))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)
            return
        self._deliver(await self._engine.run_turn(item.id, inbound))

    async def _with_file(self, item: InboxItem, inbound: Inbound, channel: Channel, chat: str) -> None:
        """Fetch and parse a file (only an officer's: nobody else's files are downloaded), then the turn."""
        requeue = False
        try:
            if await self._engine.allows(inbound.channel, inbound.chat_id, "roster.import"):
                inbound = await self._fetch(inbound, channel)
            self._deliver(await self._engine.run_turn(item.id, inbound, await self._engine.prepare(inbound)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbox %d: file update could not be processed; retrying", item.id)
            requeue = True
            await asyncio.sleep(self._backoff)
        finally:
            self._busy.discard(chat)
            waiting = self._waiting.pop(chat, deque())
            if requeue:
                waiting.appendleft(item)
            if waiting:
                self._queue.extendleft(reversed(waiting))
            self._wake.set()

    async def _fetch(self, inbound: Inbound, channel: Channel) -> Inbound:
        if inbound.file_size > MAX_FILE:
            return replace(inbound, kind="file", media="too_big")
        try:
            file = await channel.fetch_file(inbound, MAX_FILE)
        except Exception as exc:  # the platform's file server failed: tell the person to send it again
            log.warning("inbox: file fetch failed (%s)", type(exc).__name__)
            return replace(inbound, kind="file", media="fetch_failed")
        if file is None:
            return replace(inbound, kind="file", media="too_big")
        return replace(inbound, kind="file", file=file)


def _chat(item: InboxItem) -> str:
    return item.chat_id or f"#{item.id}"


def _name(exc: BaseException) -> str:
    return type(exc).__name__
