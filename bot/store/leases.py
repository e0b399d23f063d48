"""Leases: which process does a one-at-a-time job (send on a channel, run the scheduler) right now.

Several bot processes may share one database. A lease is taken for a short time and renewed while the
holder lives; if the holder dies, it expires and another process takes over. A holder on this machine
whose process is gone (killed, crashed) is replaced at once, without waiting for the expiry: a restart
after a crash must not leave the bot silent for the lease's lifetime. Plain SQL (a conditional upsert)
that PostgreSQL runs the same way.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from bot.store.database import Conn


def holder_id(tag: str) -> str:
    """Who holds a lease: this machine, this process, and a tag for the object in it."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag}"


def _gone(holder: str) -> bool:
    """The holder is a process on this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by someone else
        return False
    return False


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
    current = str(rows[0][0]) if rows else ""
    if current != holder and _gone(current):
        await conn.execute(
            "UPDATE leases SET holder = ?, expires_at = ? WHERE name = ? AND holder = ?", (holder, until, name, current)
        )
        current = holder
    return current == holder


async def release(conn: Conn, name: str, holder: str) -> None:
    await conn.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
