"""The inbox: every update a channel received, committed before the platform is acknowledged.

A row is unique per (channel, update key, digest of the content): the same update delivered again is
ignored, while a platform that restarts its id sequence (Telegram does after a week of silence) still
gets its new updates stored. The raw payload is kept only until the turn has run; after that a row is
just a key and a status, pruned after a week.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store.database import Conn
from bot.store.database import opt_str as _opt

KEEP = timedelta(days=7)
MAX_ATTEMPTS = 3  # start-ups during which a row was pending: a row that kills the process is skipped


@dataclass(frozen=True, slots=True)
class RawUpdate:
    """An update as the platform sent it, with what the channel could tell cheaply at receipt."""

    key: str
    chat_id: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    channel: str
    chat_id: str | None
    payload: dict[str, Any] | None


def _json(payload: object) -> str:
    # ASCII escapes: any JSON a platform sends can be stored, even a lone surrogate ("\\ud83d")
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def digest(payload: object) -> str:
    """A stable fingerprint of the content, whatever the key order or spacing it arrived with."""
    return hashlib.sha256(_json(payload).encode()).hexdigest()[:32]


async def add(conn: Conn, channel: str, updates: Sequence[RawUpdate], now: datetime) -> list[InboxItem]:
    """Store updates; returns only the new ones (re-deliveries are dropped here).

    Whatever JSON arrives is stored: an update the bot will not understand still gets its row (and is
    marked failed when parsed), so it never holds back the updates behind it.
    """
    stamp = now.isoformat(timespec="seconds")
    new = []
    for update in updates:
        text = _json(update.payload)
        async with conn.execute(
            "INSERT INTO inbox (channel, update_key, digest, chat_id, payload, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, update_key, digest) DO NOTHING RETURNING id",
            (channel, update.key[:200], digest(update.payload), update.chat_id, text, stamp),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            new.append(InboxItem(int(row[0]), channel, update.chat_id, update.payload))
    return new


async def add_parsed(conn: Conn, channel: str, key: str, fingerprint: str, chat_id: str, now: datetime) -> int | None:
    """An update that arrives already parsed (engine-level tests, in-process callers): key only, no payload."""
    async with conn.execute(
        "INSERT INTO inbox (channel, update_key, digest, chat_id, received_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (channel, update_key, digest) DO NOTHING RETURNING id",
        (channel, key, fingerprint, chat_id, now.isoformat(timespec="seconds")),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else None


async def claim(conn: Conn, item_id: int, now: datetime) -> bool:
    """Mark the row processed (inside the turn's transaction); False if it already was."""
    cursor = await conn.execute(
        "UPDATE inbox SET status = 'done', payload = NULL, processed_at = ? WHERE id = ? AND status = 'pending'",
        (now.isoformat(timespec="seconds"), item_id),
    )
    return cursor.rowcount == 1


async def fail(conn: Conn, item_id: int, now: datetime) -> None:
    """An update that cannot be parsed: kept as a key, never retried, never blocking the ones behind it."""
    await conn.execute(
        "UPDATE inbox SET status = 'failed', payload = NULL, processed_at = ? WHERE id = ? AND status = 'pending'",
        (now.isoformat(timespec="seconds"), item_id),
    )


async def recover(conn: Conn, now: datetime, channels: set[str]) -> tuple[list[InboxItem], list[int]]:
    """At start-up: the rows of these channels still pending (to process, in order), and those given up.

    A row that was *started* (`started`) at MAX_ATTEMPTS start-ups in a row, and is still pending, took
    the process down each time: it is marked failed instead of crashing it again. Rows queued behind it
    were never started, so they are not counted.
    """
    if not channels:
        return [], []
    marks = ",".join("?" * len(channels))
    rows = await conn.execute_fetchall(
        "SELECT id, channel, chat_id, payload, attempts FROM inbox"
        f" WHERE status = 'pending' AND channel IN ({marks}) ORDER BY id",
        sorted(channels),
    )
    items, dropped = [], []
    for row in rows:
        if int(row[4]) >= MAX_ATTEMPTS:
            dropped.append(int(row[0]))
            await fail(conn, int(row[0]), now)
            continue
        payload = json.loads(str(row[3])) if row[3] is not None else None
        items.append(InboxItem(int(row[0]), str(row[1]), _opt(row[2]), payload if isinstance(payload, dict) else None))
    return items, dropped


async def started(conn: Conn, item_id: int) -> None:
    """Count an attempt on a row left pending by the last run, committed before its turn runs again."""
    await conn.execute("UPDATE inbox SET attempts = attempts + 1 WHERE id = ?", (item_id,))


async def prune(conn: Conn, now: datetime) -> int:
    """Forget processed rows older than a week: platforms stop re-delivering long before that."""
    cursor = await conn.execute(
        "DELETE FROM inbox WHERE status <> 'pending' AND received_at < ?",
        ((now - KEEP).isoformat(timespec="seconds"),),
    )
    return cursor.rowcount
