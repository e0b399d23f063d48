"""The connection, its transactions, read-only snapshots for heavy reads, and the `DATABASE_URL` parser.

Why not aiosqlite: every aiosqlite call is a round trip to its thread and back through the event
loop (138 µs each on an idle loop, several ms under load), and a turn holds the write lock across
8-10 of them, so the bot could never run more turns a second than the loop could turn around those
hops (~110/s in `bench/throughput.py`). A whole turn's SQL on one `sqlite3` connection takes about
60 µs. So short transactions run here directly, on the loop, and never wait for a disk lock there:

* `transaction()` starts with `BEGIN IMMEDIATE` without a busy timeout; if another *process*
  (the CLI, a second worker) holds the write lock, it backs off asynchronously and tries again.
  Inside the transaction nothing can be busy any more (WAL: readers never block the writer).
* Commits do not wait for the disk (`synchronous=NORMAL`): a crashed *process* loses nothing, since
  the OS holds the WAL. For a power cut, `sync()` fsyncs the WAL in a thread; it is awaited before an
  update is acknowledged and before a message about a change is sent, and it covers every commit
  made since the last one (one fsync for a whole batch). WAL checkpoints run in a thread too.
* Heavy writes inside a transaction (a 100,000-row roster) go to a thread with `conn.run_sync`;
  heavy reads (exports, reports, digests) use `read()`: a read-only connection in a worker thread,
  outside the write lock, on a consistent snapshot.

The async face (`await conn.execute(...)`) is the same one PostgreSQL drivers offer, so flows do
not change when a deployment moves there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from bot.store.migrations import apply_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

BUSY_WAIT = 15.0  # seconds to wait for another process's write lock before giving up
CHECKPOINT_EVERY = 2.0  # seconds between background WAL checkpoints, when anything was written


def utc_text(moment: datetime) -> str:
    """A moment as stored: UTC ISO text, so that stored times compare correctly as strings (a time given
    in the commune's zone, "07:30+07:00", must not be compared as text against a UTC one)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def opt_str(value: object) -> str | None:
    """A nullable TEXT column as `str | None`."""
    return None if value is None else str(value)


class DatabaseUrlError(ValueError):
    """DATABASE_URL is not a URL this build can open."""


def sqlite_path_from_url(url: str, *, cwd: Path | None = None) -> Path | None:
    """Path of the SQLite file named by a SQLAlchemy-style URL; None for an in-memory database.

    `sqlite:///data/x.db` is relative to the working directory, `sqlite:////abs/x.db` is absolute
    (DESIGN.md §4).
    """
    if url.startswith(("postgresql://", "postgres://", "postgresql+")):
        raise DatabaseUrlError("PostgreSQL is not supported yet; use sqlite:///path/to/file.db")
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise DatabaseUrlError(f"DATABASE_URL must start with {prefix!r} (got a different scheme)")
    rest = url[len(prefix) :].split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    path = Path(rest)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    return path


class Cursor:
    """What `execute` returns: rows already fetched, plus rowcount and lastrowid."""

    __slots__ = ("_rows", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows: list[Row] = cursor.fetchall()
        self.rowcount: int = cursor.rowcount
        self.lastrowid: int | None = cursor.lastrowid

    async def fetchall(self) -> list[Row]:
        return self._rows

    async def fetchone(self) -> Row | None:
        return self._rows[0] if self._rows else None

    async def close(self) -> None:
        return None


class _Call:
    """`conn.execute(...)` can be awaited or used as `async with conn.execute(...) as cursor:`."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._done().__await__()

    async def _done(self) -> Cursor:
        return self._cursor

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class Conn:
    """The async face of the connection inside one transaction."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Params = ()) -> _Call:
        return _Call(Cursor(self.raw.execute(sql, params)))

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        return Cursor(self.raw.executemany(sql, rows))

    async def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run heavy work on this transaction's connection in a worker thread (the loop stays free).

        The write lock is held meanwhile, so nothing else uses the connection. If the caller is
        cancelled (shutdown), the thread is still waited for: rolling back while it writes on the same
        connection would break it.
        """
        work = asyncio.ensure_future(asyncio.to_thread(fn, self.raw))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            self.raw.interrupt()  # makes the running statement fail fast; then the caller rolls back
            while not work.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([work])
            raise


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL yet (or checkpointed away): nothing to make durable
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that can only read (heavy reads in threads and worker processes)."""
    return _connect(f"{Path(path).as_uri()}?mode=ro", uri=True, readonly=True)


def _connect(target: str, *, uri: bool = False, readonly: bool = False) -> sqlite3.Connection:
    raw = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri)
    raw.row_factory = sqlite3.Row
    if readonly:
        raw.execute("PRAGMA query_only=ON")
        raw.execute("PRAGMA busy_timeout=5000")  # a worker thread may wait; the loop never does
    return raw


class Database:
    """One connection for the process's writes, serialised by an asyncio lock."""

    def __init__(self, raw: sqlite3.Connection, path: Path | None) -> None:
        self._raw = raw
        self._conn = Conn(raw)
        self._lock = asyncio.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._dirty = False
        self._commits = 0
        self._synced = 0
        self._syncing: asyncio.Future[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._closed = False
        self.path = path

    @classmethod
    async def open(cls, url: str) -> Database:
        """Open (creating folders as needed), configure and migrate the database."""
        path = sqlite_path_from_url(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        raw = _connect(str(path) if path else ":memory:")
        # WAL lets readers (exports, digests) run beside the bot; NORMAL keeps commits durable across
        # a crash of this process without an fsync per turn (the WAL is fsynced at checkpoints).
        raw.execute("PRAGMA busy_timeout=0")
        db = cls(raw, path)
        await db._retry_busy(lambda: raw.execute("PRAGMA journal_mode=WAL"))
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA foreign_keys=ON")
        if path is not None:
            raw.execute("PRAGMA wal_autocheckpoint=0")  # done in a thread by _checkpoint_loop
        async with db.transaction() as tx:
            applied = await apply_migrations(tx)
        if applied:
            log.info("applied migrations %s", applied)
        if path is not None:
            db._checkpointer = asyncio.create_task(db._checkpoint_loop(), name="db-checkpoint")
        return db

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        task, self._checkpointer = self._checkpointer, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        async with self._lock:
            if self.path is not None:
                await asyncio.to_thread(self._checkpoint)
            with self._readers_lock:
                for reader in self._readers:
                    reader.close()
                self._readers.clear()
            self._raw.close()

    async def _retry_busy(self, attempt: Callable[[], object]) -> None:
        """Run `attempt`; while another process holds the lock, wait without blocking the loop."""
        deadline = time.monotonic() + BUSY_WAIT
        delay = 0.002
        while True:
            try:
                attempt()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Conn]:
        """A write transaction: committed when the block ends, rolled back on any exception.

        `durable=False` for bookkeeping that may be lost in a power cut without harm (a delivery
        outcome: the message is then sent again): `sync()` does not wait for it.
        """
        async with self._lock:
            await self._retry_busy(lambda: self._raw.execute("BEGIN IMMEDIATE"))
            changes = self._raw.total_changes
            try:
                yield self._conn
            except BaseException:
                self._raw.execute("ROLLBACK")
                raise
            try:
                self._raw.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # never leave the connection inside a transaction
                    self._raw.execute("ROLLBACK")
                raise
            if self._raw.total_changes != changes:
                self._dirty = True
                if durable:
                    self._commits += 1

    @property
    def synced(self) -> bool:
        """Every durable commit so far is on disk."""
        return self.path is None or self._synced >= self._commits

    async def sync(self) -> None:
        """Make every commit so far survive a power cut (fsync of the WAL, in a thread).

        Callers share the work: one fsync started after a commit covers it, so under load many commits
        cost one fsync.
        """
        if self.path is None:
            return
        while self._synced < self._commits:
            if self._syncing is not None:
                await asyncio.shield(self._syncing)
                continue
            target = self._commits
            self._syncing = asyncio.get_running_loop().create_future()
            try:
                await asyncio.to_thread(_fsync, Path(f"{self.path}-wal"))
                self._synced = max(self._synced, target)
            finally:
                self._syncing.set_result(None)
                self._syncing = None

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read in a worker thread on a read-only connection, on one consistent snapshot.

        It neither holds nor waits for the write lock, so the bot keeps answering meanwhile. Reads that
        run for seconds of pure Python go to a worker process instead (`bot.heavy`).
        """
        if self.path is None:  # an in-memory database has no second connection: share the one
            async with self._lock:
                return await asyncio.to_thread(fn, self._raw)
        return await asyncio.to_thread(self._read_in_thread, fn)

    def _read_in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            assert self.path is not None
            reader = connect_read_only(self.path)
            self._local.reader = reader
            with self._readers_lock:
                self._readers.append(reader)
        reader.execute("BEGIN")
        try:
            return fn(reader)
        finally:
            reader.execute("ROLLBACK")

    def _checkpoint(self) -> None:
        assert self.path is not None
        checkpointer = _connect(str(self.path))
        try:
            checkpointer.execute("PRAGMA busy_timeout=1000")
            checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError as exc:  # a busy checkpoint is simply tried again later
            log.debug("checkpoint skipped: %s", exc.__class__.__name__)
        finally:
            checkpointer.close()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            if self._dirty:
                self._dirty = False
                await asyncio.to_thread(self._checkpoint)
