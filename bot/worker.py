"""The background worker: heavy tasks (XLSX exports, reports) a turn queued, done one at a time.

The heavy part runs in a worker thread on a read-only connection (`Database.read`), outside the write
lock, so citizens keep getting answers meanwhile; the result — a file, a message — is then written to
the outbox in one short transaction, together with marking the task done (so it is sent once even if
the process stops half-way and runs the task again). Shutting down sets `stop`, which long loops check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.flows.base import Services, TaskContext, TaskHandler, TaskOutput
from bot.heavy import Cancelled
from bot.messages import Outbound
from bot.store import Conn, Database, audit, tasks
from bot.store.outbox import OutboxItem
from bot.store.tasks import Task

log = logging.getLogger(__name__)
POLL = 2.0
Notify = Callable[[Conn, Sequence[Outbound], datetime], Awaitable[list[OutboxItem]]]  # Engine.notify


class Worker:
    def __init__(
        self,
        db: Database,
        services: Services,
        handlers: Mapping[str, TaskHandler],
        notify: Notify,
        deliver: Callable[[list[OutboxItem]], None],
    ) -> None:
        self._db = db
        self._services = services
        self._handlers = handlers
        self._notify = notify
        self._deliver = deliver
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None
        services.signals.connect("tasks", self._wake.set)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="worker")

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bound on shutdown
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            done, _ = await asyncio.wait([task], timeout=timeout)
            if not done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_pending()
            except Exception:
                log.exception("worker: looking for tasks failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL)
            self._wake.clear()

    async def run_pending(self) -> None:
        """Run the tasks pending now, oldest first."""
        async with self._db.transaction() as conn:
            todo = await tasks.pending(conn)
        for task in todo:
            if self._stop.is_set():
                return
            await self._run_one(task)

    async def _run_one(self, task: Task) -> None:
        handler = self._handlers.get(task.kind)
        if handler is None or task.attempts >= tasks.MAX_ATTEMPTS:
            log.error("task %d (%s): %s; given up", task.id, task.kind, "no handler" if handler is None else "failed")
            await self._finish(task, TaskOutput([Outbound(self._services.content.strings("task_failed"))]), failed=True)
            return
        async with self._db.transaction() as conn:
            await tasks.started(conn, task.id)
        try:
            output = await handler(task, TaskContext(self._db, self._services))
        except Cancelled:
            log.info("task %d (%s): interrupted by shutdown; it runs again at start-up", task.id, task.kind)
            return
        except Exception:
            log.exception("task %d (%s) failed (attempt %d)", task.id, task.kind, task.attempts + 1)
            if task.attempts + 1 >= tasks.MAX_ATTEMPTS:
                failed = TaskOutput([Outbound(self._services.content.strings("task_failed"))])
                await self._finish(task, failed, failed=True)
            return
        log.info("task %d (%s) done", task.id, task.kind)
        await self._finish(task, output)

    async def _finish(self, task: Task, output: TaskOutput, *, failed: bool = False) -> None:
        now = self._services.clock()
        async with self._db.transaction() as conn:
            if not await tasks.finish(conn, task.id, now, failed=failed):
                return
            for action, subject, detail in output.audit:
                await audit.record(
                    conn, commune=task.commune, actor=task.actor, action=action, object=subject, now=now, **detail
                )
            to = task.reply_to
            messages = [
                replace(message, to=to, key=f"task:{task.id}:{i}")
                for i, message in enumerate(output.messages)
                if to is not None
            ]
            # Fitted to the asker's channel like any notification: numbered menus and file links on Zalo.
            items = await self._notify(conn, messages, now) if messages else []
        self._deliver(items)
