"""What the scheduler has done: one row per (job, period, recipient), written in the same transaction
as the outbox rows it produced — so a restart at any moment sends nothing twice and resumes the rest."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.store.database import Conn


async def claim(conn: Conn, job: str, period: str, recipient: str, now: datetime, outbox_key: str | None) -> bool:
    """Record (job, period, recipient); False when it was done already (then send nothing)."""
    cursor = await conn.execute(
        "INSERT INTO job_runs (job, period, recipient, outbox_key, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (job, period, recipient, outbox_key, now.isoformat(timespec="seconds")),
    )
    return cursor.rowcount == 1


async def done(conn: Conn, job: str, period: str, recipients: Iterable[str]) -> set[str]:
    """Which of these recipients already had (job, period)."""
    wanted = list(recipients)
    if not wanted:
        return set()
    marks = ",".join("?" * len(wanted))
    rows = await conn.execute_fetchall(
        f"SELECT recipient FROM job_runs WHERE job = ? AND period = ? AND recipient IN ({marks})",
        (job, period, *wanted),
    )
    return {str(r[0]) for r in rows}
