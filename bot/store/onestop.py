"""The one-stop office's figures for a week or a month (applications, how many fully online, overdue…):
the bot cannot know them, so an officer enters them; each set says who entered it and when."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn, utc_text

FIELDS = ("total", "fully_online", "partly_online", "by_post", "overdue", "digitised", "paid_online")


@dataclass(frozen=True, slots=True)
class OneStop:
    period: str
    total: int
    fully_online: int
    partly_online: int
    by_post: int
    overdue: int
    digitised: int
    paid_online: int
    entered_by: str  # the member's display name
    entered_at: str


_SELECT = (
    "SELECT o.period, o.total, o.fully_online, o.partly_online, o.by_post, o.overdue, o.digitised,"
    " o.paid_online, coalesce(m.label, ''), o.entered_at FROM onestop_figures o"
    " LEFT JOIN members m ON m.id = o.entered_by WHERE o.commune = ? AND o.period = ?"
)


def _onestop(row: Sequence[object]) -> OneStop:
    period, total, full, part, post, overdue, digitised, paid, by, at = row
    n = [int(str(v)) for v in (total, full, part, post, overdue, digitised, paid)]
    return OneStop(str(period), n[0], n[1], n[2], n[3], n[4], n[5], n[6], str(by), str(at))


def faults(values: Sequence[int]) -> list[str]:
    """What is wrong with a set of figures (in the order of FIELDS), in words for the officer."""
    if len(values) != len(FIELDS):
        return [f"cần đúng {len(FIELDS)} số"]
    total, *parts = values
    problems = [f"số thứ {i + 1} âm" for i, v in enumerate(values) if v < 0]
    problems += [f"số thứ {i + 2} ({v}) lớn hơn tổng số hồ sơ ({total})" for i, v in enumerate(parts) if v > total]
    if values[1] + values[2] > total:
        problems.append("hồ sơ toàn trình + một phần lớn hơn tổng số hồ sơ")
    return problems


async def save(conn: Conn, commune: str, period: str, values: Sequence[int], member_id: int, now: datetime) -> None:
    """Enter, or correct, the figures of a period (the latest entry stands)."""
    columns = ", ".join(FIELDS)
    updates = ", ".join(f"{f} = excluded.{f}" for f in FIELDS)
    await conn.execute(
        f"INSERT INTO onestop_figures (commune, period, {columns}, entered_by, entered_at)"
        f" VALUES (?, ?, {', '.join('?' * len(FIELDS))}, ?, ?) ON CONFLICT (commune, period) DO UPDATE SET"
        f" {updates}, entered_by = excluded.entered_by, entered_at = excluded.entered_at",
        (commune, period, *values, member_id, utc_text(now)),
    )


async def get(conn: Conn, commune: str, period: str) -> OneStop | None:
    rows = await conn.execute_fetchall(_SELECT, (commune, period))
    row = next(iter(rows), None)
    return None if row is None else _onestop(tuple(row))


def read(conn: sqlite3.Connection, commune: str, period: str) -> OneStop | None:
    """The same, on a plain connection (the figures' snapshot in a worker)."""
    row = conn.execute(_SELECT, (commune, period)).fetchone()
    return None if row is None else _onestop(tuple(row))
