"""Heavy CPU work — exports, reports, parsing a 200,000-row roster — in a separate worker process.

Why not a thread: this work is pure Python, and a thread busy with it starves the event loop of the
GIL (every socket call the loop makes then waits for the busy thread's switch interval). Measured with
`bench/export_latency.py`: during a 100,000-household export in a thread, citizens' p99 reply latency
went from 0.17 s to 4.4 s. In a process the loop keeps its core.

Functions run here must be plain module-level functions of picklable arguments (a database *path*, not
a connection: the worker opens its own read-only connection). The pool starts on first use and is
terminated (not waited for) at shutdown; unfinished work is redone at the next start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.pool
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """Heavy work stopped because the service is shutting down; it runs again at the next start."""


class HeavyPool:
    def __init__(self, processes: int = 1) -> None:
        self._processes = processes
        self._pool: multiprocessing.pool.Pool | None = None
        self._waiting: set[asyncio.Future[Any]] = set()
        self._closed = False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the worker process, awaited without blocking the loop."""
        if self._closed:
            raise Cancelled
        if self._pool is None:
            # spawn: a fresh interpreter, not a fork of this one with its event loop and sockets
            self._pool = multiprocessing.get_context("spawn").Pool(self._processes)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def done(value: T) -> None:
            loop.call_soon_threadsafe(_settle, future, value, None)

        def failed(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, future, None, error)

        self._pool.apply_async(fn, args, callback=done, error_callback=failed)
        self._waiting.add(future)
        try:
            return await future
        finally:
            self._waiting.discard(future)

    def close(self) -> None:
        """Stop at once: the worker is terminated, whoever waits gets `Cancelled`."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()
        for future in list(self._waiting):
            if not future.done():
                future.set_exception(Cancelled())


def _settle(future: asyncio.Future[Any], value: object, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def on_snapshot(fn: Callable[..., T], path: str, kwargs: dict[str, Any]) -> T:
    """In the worker: `fn(conn, **kwargs)` on a read-only connection, one consistent snapshot."""
    from bot.store.database import connect_read_only

    conn = connect_read_only(path)
    try:
        conn.execute("BEGIN")
        return fn(conn, **kwargs)
    finally:
        conn.close()
