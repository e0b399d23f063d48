"""The data layer's own guarantees: failed commits, cancelled heavy writes, durability, leases."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Database, leases


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(f"sqlite:///{tmp_path}/store.db")
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await conn.execute("CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)")
        await conn.execute("CREATE TABLE t (i INTEGER)")
    yield database
    await database.close()


async def test_a_failed_commit_leaves_no_transaction_open(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO child VALUES (42)")  # the foreign key fails only at COMMIT
    async with db.transaction() as conn:  # the next unit of work starts normally
        assert [tuple(r) for r in await conn.execute_fetchall("SELECT count(*) FROM child")] == [(0,)]


async def test_a_cancelled_heavy_write_is_rolled_back_whole(db: Database, tmp_path: Path) -> None:
    """Cancelled twice (shutdown does that): the thread is interrupted and waited for, then rolled back."""

    def slow_rows() -> Iterator[tuple[int]]:
        for i in range(40):
            time.sleep(0.02)
            yield (i,)

    async def importer() -> None:
        async with db.transaction() as conn:
            await conn.run_sync(lambda raw: raw.executemany("INSERT INTO t VALUES (?)", slow_rows()))

    task = asyncio.create_task(importer())
    await asyncio.sleep(0.15)
    task.cancel()
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.3)
    assert sqlite3.connect(tmp_path / "store.db").execute("SELECT count(*) FROM t").fetchone() == (0,)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (1)")


async def test_sync_makes_commits_durable_and_is_shared(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.store import database

    calls: list[Path] = []
    real = database._fsync

    def counted(path: Path) -> None:
        calls.append(path)
        real(path)

    await db.sync()
    monkeypatch.setattr(database, "_fsync", counted)
    await db.sync()
    assert calls == []  # nothing committed since the last sync
    for i in range(3):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (?)", (i,))
    await asyncio.gather(db.sync(), db.sync(), db.sync())
    assert len(calls) == 1 and calls[0].name.endswith("-wal")


async def test_a_lease_has_one_holder_until_it_expires(db: Database) -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    ttl = timedelta(seconds=30)
    async with db.transaction() as conn:
        assert await leases.take(conn, "send:telegram", "a", now, ttl)
        assert not await leases.take(conn, "send:telegram", "b", now + timedelta(seconds=10), ttl)
        assert await leases.take(conn, "send:telegram", "a", now + timedelta(seconds=20), ttl)  # renewed
        assert not await leases.take(conn, "send:telegram", "b", now + timedelta(seconds=40), ttl)
        assert await leases.take(conn, "send:telegram", "b", now + timedelta(seconds=51), ttl)  # a died


async def test_a_lease_of_a_dead_process_on_this_machine_is_taken_at_once(db: Database) -> None:
    """After a crash the restarted bot must not wait out the old process's lease to start sending."""
    import sys

    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import os; print(os.getpid())", stdout=asyncio.subprocess.PIPE
    )
    out, _ = await child.communicate()  # the process has ended: its pid is free
    ghost = f"{leases.holder_id('x').split(':')[0]}:{out.decode().strip()}:send"
    now = datetime(2026, 11, 23, tzinfo=UTC)
    async with db.transaction() as conn:
        assert await leases.take(conn, "send:telegram", ghost, now, timedelta(seconds=30))
        assert await leases.take(conn, "send:telegram", leases.holder_id("new"), now, timedelta(seconds=30))
