"""Leases: which process does a one-at-a-time job (send on a channel, run the scheduler) right now.

Several bot processes may share one database. A lease is taken for a short time and renewed while the
holder lives; if the holder dies, it expires and another process takes over. Plain SQL (an upsert with
a condition) that PostgreSQL runs the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.database import Conn


async def take(conn: Conn, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another live holder has it."""
    stamp, until = now.isoformat(timespec="seconds"), (now + ttl).isoformat(timespec="seconds")
    await conn.execute(
        "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at"
        " WHERE leases.holder = excluded.holder OR leases.expires_at < ?",
        (name, holder, until, stamp),
    )
    rows = await conn.execute_fetchall("SELECT holder FROM leases WHERE name = ?", (name,))
    return bool(rows) and str(rows[0][0]) == holder


async def release(conn: Conn, name: str, holder: str) -> None:
    await conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
