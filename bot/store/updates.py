"""Processed update ids: a re-delivered update (retry, restart, second worker) does nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.database import Conn

KEEP = timedelta(days=7)


async def claim(conn: Conn, channel: str, update_id: str, now: datetime) -> bool:
    """Record the update; False if it was processed before. Runs inside the turn's transaction."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO processed_updates (channel, update_id, processed_at) VALUES (?, ?, ?)",
        (channel, update_id, now.isoformat(timespec="seconds")),
    )
    return cursor.rowcount == 1  # read from the cursor object; no further round trip to the db thread


async def prune(conn: Conn, now: datetime) -> int:
    """Forget ids older than a week: platforms stop re-delivering long before that."""
    cursor = await conn.execute(
        "DELETE FROM processed_updates WHERE processed_at < ?",
        ((now - KEEP).isoformat(timespec="seconds"),),
    )
    removed = cursor.rowcount
    await cursor.close()
    return removed
