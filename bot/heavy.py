"""Heavy CPU work — exports, reports, parsing a 200,000-row roster — in a separate worker process.

Why not a thread: this work is pure Python, and a thread busy with it starves the event loop of the
GIL (every socket call the loop makes then waits for the busy thread's switch interval). Measured with
`bench/export_latency.py`: during a 100,000-household export in a thread, citizens' p99 reply latency
went from 0.17 s to 4.4 s; in a process it stays at ~0.24 s.

Functions run here must be plain module-level functions of picklable arguments (a database *path*, not
a connection: the worker opens its own read-only connection). The pool starts on first use. If a worker
dies (killed, out of memory), the call fails with `HeavyWorkFailed` and a fresh pool is started next
time. At shutdown the workers are terminated, not waited for; unfinished work is redone at next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """Heavy work stopped because the service is shutting down; it runs again at the next start."""


class HeavyWorkFailed(Exception):
    """The worker process died while doing this work (killed, or out of memory)."""


class HeavyPool:
    def __init__(self, processes: int = 1) -> None:
        self._processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker process, awaited without blocking the loop."""
        if self._closed:
            raise Cancelled
        if self._executor is None:
            # spawn: a fresh interpreter, not a fork of this one with its event loop and sockets
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(max_workers=self._processes, mp_context=context)
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, partial(fn, *args))
        except BrokenProcessPool:
            if self._closed:
                raise Cancelled from None
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            raise HeavyWorkFailed from None

    @property
    def started(self) -> bool:
        return self._executor is not None

    def close(self) -> None:
        """Stop at once: the workers are terminated; whoever waits gets `Cancelled`."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # ProcessPoolExecutor can only wait for running work (terminate_workers comes in Python 3.14).
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)


def on_snapshot(fn: Callable[..., T], path: str, kwargs: dict[str, Any]) -> T:
    """In the worker: `fn(conn, **kwargs)` on a read-only connection, one consistent snapshot."""
    from bot.store.database import connect_read_only

    conn = connect_read_only(path)
    try:
        conn.execute("BEGIN")
        return fn(conn, **kwargs)
    finally:
        conn.close()
