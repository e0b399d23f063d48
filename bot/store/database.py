"""The connection, its transactions and the `DATABASE_URL` parser."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from bot.store.migrations import apply_migrations

log = logging.getLogger(__name__)

Conn = aiosqlite.Connection


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


class Database:
    """One aiosqlite connection shared by the process.

    SQLite has one writer at a time anyway; an asyncio lock makes each unit of work one serial
    transaction so that coroutines never interleave statements inside another's transaction.
    """

    def __init__(self, conn: aiosqlite.Connection, path: Path | None) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, url: str) -> Database:
        """Open (creating folders as needed), configure and migrate the database."""
        path = sqlite_path_from_url(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path) if path else ":memory:", isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # WAL lets readers (exports, digests) run beside the bot; NORMAL keeps commits durable
        # across a crash of this process without an fsync per message.
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        db = cls(conn, path)
        async with db.transaction() as tx:
            applied = await apply_migrations(tx)
        if applied:
            log.info("applied migrations %s", applied)
        return db

    async def close(self) -> None:
        await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")
