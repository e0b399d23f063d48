"""The sender of one channel: delivers outbox rows, in order per chat, within the platform's limits.

* Replies go first, then notifications, then bulk (announcements, digests); within one chat messages
  keep their order (a chat has at most one message in flight).
* One budget for the whole channel (Telegram: ~30 messages/s) and, for bulk, at most one message a
  second per chat. Replies are never paced per chat: a turn's two or three messages go at once.
* A 429 blocks only the chat it was for, for the `retry_after` Telegram asked. Many 429s on bulk
  within a second (`flood_429s`) mean the overall budget was hit: then bulk pauses too. A lone 429
  does not stop an announcement to thousands — replies to everyone keep flowing either way.
* Network errors and 5xx pause the whole channel (the platform is unreachable for everyone), with
  backoff up to 30 s, and the next send probes it. Such failures never use up a message: it is given up
  only when it is a day old (an old reply is still better than none, up to a point).
* A 403 marks the person unreachable, drops their queue and tells whoever needs to know.
* A send whose answer was lost is recorded as `unknown`, not repeated (see the README).
* Before anything is sent, the commits behind it are made durable (`Database.sync`): a message never
  announces a change a power cut could undo.

Rows come from the engine in memory right after their commit (no added latency) and from the database
at start-up and every `poll` seconds (rows written by other processes, or left by a crash). An id stays
"known" until its outcome is committed, so a row is never picked up twice. Only the holder of the
channel's lease sends, so two processes sharing a database never both send a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.channels.base import Channel, Fatal, Rejected, Retry, SendResult, Sent, Unknown, Unreachable
from bot.store import Database, leases, outbox, sessions
from bot.store.outbox import BULK, Mark, NewMessage, OutboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """Sending limits of one channel (settings; Telegram's documented ones by default)."""

    per_second: float = 30.0  # 0 = unlimited (local emulator benchmarks)
    bulk_chat_interval: float = 1.0  # seconds between two bulk messages to the same chat
    max_in_flight: int = 8  # Telegram answers in ~100 ms: 8 in flight carry 30 messages a second easily
    max_age: timedelta = timedelta(days=1)  # a message still undelivered after this is given up
    backoff: float = 0.5
    max_backoff: float = 30.0
    poll: float = 1.0  # seconds between looks at the database for rows from elsewhere
    capacity: int = 2000  # rows held in memory at most
    lease: timedelta = timedelta(seconds=30)
    flood_429s: int = 10  # this many 429s on bulk within a second pause all bulk (a third of the budget)


class _Bucket:
    """A token bucket: `rate` sends a second, in bursts of at most a quarter second's worth.

    The platform counts with its own clock: sends bunched by network jitter on top of a full second's
    burst would reach it faster than `rate` and come back as 429s. A short burst keeps the flow even
    (a turn's two or three replies still go at once).
    """

    BURST = 0.25  # seconds' worth

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(rate * self.BURST, 3.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, now: float) -> bool:
        if self.rate <= 0:
            return True
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        return 0.0 if self.rate <= 0 else max(0.0, (1.0 - self.tokens) / self.rate)

    def refund(self) -> None:
        """A send the platform refused (a lone 429) did not count against its budget."""
        self.tokens = min(self.capacity, self.tokens + 1)


class Sender:
    def __init__(
        self,
        db: Database,
        channel: Channel,
        limits: Limits,
        clock: Callable[[], datetime],
        deliver: Callable[[list[OutboxItem]], None],
        on_fatal: Callable[[str, str], None],
    ) -> None:
        self._db = db
        self._channel = channel
        self._limits = limits
        self._clock = clock
        self._deliver = deliver
        self._on_fatal = on_fatal
        self._queues: dict[str, list[tuple[int, int, OutboxItem]]] = {}
        self._ready: list[tuple[int, int, str]] = []  # heads of chats that may send now
        self._timers: list[tuple[float, str]] = []  # chats to look at again at a time
        self._blocked: dict[str, float] = {}
        self._last_bulk: dict[str, float] = {}
        self._bulk_paused = 0.0
        self._recent_429s: list[float] = []
        self._outage_until = 0.0  # the platform is unreachable: nobody sends before this
        self._outages = 0
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._known: set[int] = set()
        self._marks: list[Mark] = []
        self._marked = asyncio.Event()
        self._wake = asyncio.Event()
        self._bucket = _Bucket(limits.per_second)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._holder = leases.holder_id(f"send-{channel.name}-{id(self):x}")
        self._leased = False
        self.sent = 0

    @property
    def name(self) -> str:
        return self._channel.name

    # ---- feeding ----------------------------------------------------------------------------------

    def push(self, items: list[OutboxItem]) -> None:
        """Rows just committed (by a turn, a task or a job): send them without a database round trip."""
        now = time.monotonic()
        for item in items:
            if item.id in self._known:
                continue
            self._known.add(item.id)
            chat = item.to.chat_id
            queue = self._queues.setdefault(chat, [])
            heapq.heappush(queue, (item.priority, item.id, item))
            if item.not_before is not None:
                wait = (item.not_before - self._clock()).total_seconds()
                if wait > 0:
                    self._block(chat, now + wait)
            if queue[0][2] is item:
                self._offer(chat, now)
        self._wake.set()

    def _offer(self, chat: str, now: float) -> None:
        """Put a chat's head on the ready heap, unless it is busy or blocked (then a timer brings it back)."""
        queue = self._queues.get(chat)
        if not queue or chat in self._in_flight:
            return
        if self._blocked.get(chat, 0.0) > now:
            return
        priority, item_id, _ = queue[0]
        heapq.heappush(self._ready, (priority, item_id, chat))

    def _block(self, chat: str, until: float) -> None:
        self._blocked[chat] = max(self._blocked.get(chat, 0.0), until)
        heapq.heappush(self._timers, (until, chat))

    async def start(self) -> None:
        await self._renew()
        await self._load()
        self._tasks = [
            asyncio.create_task(self._run(), name=f"send-{self.name}"),
            asyncio.create_task(self._flush_marks(), name=f"marks-{self.name}"),
            asyncio.create_task(self._poll(), name=f"poll-{self.name}"),
        ]

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bound on shutdown
        """Stop taking rows; let sends in flight finish (bounded); record every outcome known."""
        self._stopping = True
        self._wake.set()
        flying = list(self._in_flight.values())
        if flying:
            _, late = await asyncio.wait(flying, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._flush()
        if self._leased:
            with contextlib.suppress(Exception):
                async with self._db.transaction() as conn:
                    await leases.release(conn, f"send:{self.name}", self._holder)

    async def _renew(self) -> None:
        async with self._db.transaction() as conn:
            held = await leases.take(conn, f"send:{self.name}", self._holder, self._clock(), self._limits.lease)
        if held != self._leased:
            log.info("%s sender: %s", self.name, "sending" if held else "another process sends on this channel")
        self._leased = held
        if held:
            self._wake.set()

    async def _load(self) -> None:
        room = self._limits.capacity - len(self._known)
        if room <= 0 or not self._leased:
            return
        async with self._db.transaction() as conn:
            items = await outbox.pending(conn, self.name, limit=room, skip=self._known)
        if items:
            self.push(items)

    async def drop_cancelled(self) -> int:
        """Rows cancelled in the database (an announcement called off) leave the queues unsent."""
        held = [item_id for queue in self._queues.values() for priority, item_id, _ in queue if priority == BULK]
        if not held:
            return 0
        gone = await self._db.read(lambda conn: outbox.cancelled_among(conn, held))
        if not gone:
            return 0
        for chat, queue in self._queues.items():
            kept = [entry for entry in queue if entry[1] not in gone]
            if len(kept) != len(queue):
                heapq.heapify(kept)
                self._queues[chat] = kept
        self._known -= gone
        return len(gone)

    async def _poll(self) -> None:
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(self._limits.poll)
            try:
                if time.monotonic() - renewed > self._limits.lease.total_seconds() / 3 or not self._leased:
                    await self._renew()
                    renewed = time.monotonic()
                await self._load()
            except Exception:  # a busy or failing database: look again next time
                log.exception("%s sender: reading the outbox failed", self.name)

    # ---- choosing and sending ---------------------------------------------------------------------

    async def _run(self) -> None:
        await self._channel.ready.wait()
        while not self._stopping:
            now = time.monotonic()
            self._release(now)
            waits: list[float] = []
            if self._ready and self._leased and now >= self._outage_until:
                await self._durable()
                now = time.monotonic()
            while self._ready and self._leased and len(self._in_flight) < self._limits.max_in_flight:
                if now < self._outage_until:
                    waits.append(self._outage_until - now)
                    break
                priority, item_id, chat = self._ready[0]
                queue = self._queues.get(chat)
                if not queue or queue[0][1] != item_id or chat in self._in_flight:
                    heapq.heappop(self._ready)  # stale: the chat moved on or is busy
                    continue
                if priority == BULK:
                    due = max(self._bulk_paused, self._last_bulk.get(chat, 0.0) + self._limits.bulk_chat_interval)
                    if due > now:
                        heapq.heappop(self._ready)
                        heapq.heappush(self._timers, (due, chat))
                        continue
                if not self._bucket.take(now):
                    waits.append(self._bucket.wait())
                    break
                heapq.heappop(self._ready)
                _, _, item = heapq.heappop(queue)
                if not queue:
                    del self._queues[chat]
                self._in_flight[chat] = asyncio.create_task(self._send(item))
            if self._timers:
                waits.append(self._timers[0][0] - now)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, min(waits)) if waits else None)

    async def _durable(self) -> None:
        if self._db.synced:
            return
        await asyncio.sleep(0)  # let the turns that are ready commit too: one fsync covers them all
        try:
            await self._db.sync()
        except OSError:  # the disk is failing: the messages still go out; say so
            log.exception("%s sender: could not make the outbox durable", self.name)

    def _release(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _, chat = heapq.heappop(self._timers)
            if self._blocked.get(chat, 0.0) <= now:
                self._blocked.pop(chat, None)
                self._offer(chat, now)

    async def _send(self, item: OutboxItem) -> None:
        chat = item.to.chat_id
        try:
            # Bulk is checked once more just before it goes: an announcement may have been called off
            # after its rows were queued here (its turn commits after the signal that empties the queues).
            if item.priority == BULK and item.id in await self._db.read(
                lambda conn: outbox.cancelled_among(conn, [item.id])
            ):
                self._known.discard(item.id)
                return
            try:
                result: SendResult = await self._channel.send(item)
            except asyncio.CancelledError:
                # Stopped mid-request: Telegram may have it. A new message is not sent again (README);
                # an edit or acknowledgement stays pending, since repeating it changes nothing.
                if _repeatable(item):
                    raise
                result = Unknown("stopped while sending")
                await self._outcome(item, result)
                raise
            except Exception as exc:  # a channel must not raise; if it does, treat it as transient
                log.exception("%s sender: outbox %d: send raised", self.name, item.id)
                result = Retry(None, type(exc).__name__)
            await self._outcome(item, result)
        finally:
            self._in_flight.pop(chat, None)
            self._offer(chat, time.monotonic())
            self._wake.set()

    async def _outcome(self, item: OutboxItem, result: SendResult) -> None:
        now = time.monotonic()
        attempts = item.attempts + 1
        chat = item.to.chat_id
        if isinstance(result, Sent):
            self.sent += 1
            self._outages = 0
            if item.priority == BULK:
                self._last_bulk[chat] = now
            self._mark(Mark(item.id, "sent", attempts, result.message_id))
        elif isinstance(result, Unknown):
            log.warning("%s sender: outbox %d: no answer (%s); not sent again", self.name, item.id, result.reason)
            self._mark(Mark(item.id, "unknown", attempts, error=result.reason))
        elif isinstance(result, Retry):
            self._retry(item, result, attempts, now)
        elif isinstance(result, Unreachable):
            await self._unreachable(item, result.reason)
        elif isinstance(result, Rejected):
            log.warning("%s sender: outbox %d refused: %s", self.name, item.id, result.reason)
            self._mark(Mark(item.id, "failed", attempts, error=result.reason[:200]))
        elif isinstance(result, Fatal):
            self._requeue(item)
            self._stopping = True
            self._on_fatal(self.name, result.reason)

    def _retry(self, item: OutboxItem, result: Retry, attempts: int, now: float) -> None:
        created = item.created_at or self._clock()
        if self._clock() - created > self._limits.max_age:
            log.error("%s sender: outbox %d undelivered for a day (%s); given up", self.name, item.id, result.reason)
            self._mark(Mark(item.id, "failed", attempts, error=f"expired: {result.reason}"))
            return
        if result.rate_limited:  # 429: this chat (and bulk) wait what Telegram asked
            delay = result.after if result.after is not None else self._limits.backoff
            if item.priority == BULK:
                self._recent_429s = [t for t in self._recent_429s if t > now - 1.0] + [now]
                if len(self._recent_429s) >= self._limits.flood_429s:
                    self._bulk_paused = max(self._bulk_paused, now + delay)
                else:
                    self._bucket.refund()
            self._block(item.to.chat_id, now + delay)
        else:  # the platform or the network is down: everyone waits, the next send probes it
            self._outages += 1
            delay = min(self._limits.backoff * 2 ** (self._outages - 1), self._limits.max_backoff)
            self._outage_until = max(self._outage_until, now + delay)
        log.info("%s sender: outbox %d: %s; retry in %.1f s", self.name, item.id, result.reason, delay)
        self._requeue(replace(item, attempts=attempts))
        not_before = self._clock() + timedelta(seconds=delay)
        self._mark(Mark(item.id, "pending", attempts, error=result.reason, not_before=not_before))

    def _requeue(self, item: OutboxItem) -> None:
        heapq.heappush(self._queues.setdefault(item.to.chat_id, []), (item.priority, item.id, item))

    async def _unreachable(self, item: OutboxItem, reason: str) -> None:
        """The person blocked the bot: drop what waits for them and tell whoever needs to know."""
        log.info("%s sender: outbox %d: recipient unreachable (%s)", self.name, item.id, reason)
        bounce = item.message.undeliverable
        now = self._clock()
        try:
            async with self._db.transaction() as conn:
                await outbox.record(conn, [Mark(item.id, "failed", item.attempts + 1, error="unreachable")], now)
                await outbox.cancel_for(conn, item.to, now, error="unreachable")
                await sessions.mark_unreachable(conn, item.to, now)
                new: list[OutboxItem] = []
                if bounce is not None and bounce.to is not None:
                    key = bounce.key or f"bounce:{item.id}"
                    new = await outbox.add(conn, [NewMessage(bounce.to, bounce, key, item.priority)], now)
        except Exception:
            log.exception("%s sender: recording an unreachable recipient failed", self.name)
            self._requeue(item)
            self._block(item.to.chat_id, time.monotonic() + self._limits.backoff)
            return
        for _, dropped_id, _ in self._queues.pop(item.to.chat_id, []):  # cancelled in the database above
            self._known.discard(dropped_id)
        self._known.discard(item.id)
        if new:
            self._deliver(new)

    # ---- recording outcomes -------------------------------------------------------------------------

    def _mark(self, mark: Mark) -> None:
        self._marks.append(mark)
        self._marked.set()

    async def _flush_marks(self) -> None:
        """Group commit: every outcome that arrived while the last commit ran goes in the next one."""
        while True:
            await self._marked.wait()
            self._marked.clear()
            try:
                await self._flush()
            except Exception:
                log.exception("%s sender: recording outcomes failed; retrying", self.name)
                await asyncio.sleep(self._limits.backoff)
                self._marked.set()

    async def _flush(self) -> None:
        if not self._marks:
            return
        marks, self._marks = self._marks, []
        try:
            async with self._db.transaction(durable=False) as conn:
                await outbox.record(conn, marks, self._clock())
        except BaseException:
            self._marks = marks + self._marks
            raise
        for mark in marks:
            if mark.status != "pending":
                self._known.discard(mark.id)


def _repeatable(item: OutboxItem) -> bool:
    """Sending this again changes nothing: an edit of a known message, or a bare acknowledgement."""
    message = item.message
    return (message.edit and item.edit_id is not None and message.attachment is None) or (
        not message.text and message.attachment is None
    )
