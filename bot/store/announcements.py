"""Announcements officers write for the commune's subscribers (🔔), sent now or at a chosen time.

An announcement is expanded into outbox rows (priority BULK, key "ann:<id>:<channel>:<chat>") in
batches, each batch its own short transaction: a restart half-way writes no row twice (the key is
unique) and carries on with the rest. The channel's sender keeps to the platform's limits. Progress is
read from those rows; cancelling marks the rows not yet sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn, utc_text

MAX_TEXT = 1500
MAX_CAPTION = 900  # with a photo the text is its caption (Telegram: 1,024 with the heading)


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    commune: str
    text: str
    village_id: int | None
    send_at: str
    status: str  # scheduled | queuing | queued | cancelled
    total: int | None
    created_by: int
    photo_ref: str | None = None
    photo_channel: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    total: int  # recipients (known once queued)
    sent: int
    failed: int  # blocked the bot, or gave up
    pending: int
    cancelled: int


_COLUMNS = "id, commune, text, village_id, send_at, status, total, created_by, photo_ref, photo_channel"


def _announcement(row: Sequence[object]) -> Announcement:
    i, commune, text, village, send_at, status, total, by, photo, photo_channel = row
    return Announcement(
        int(str(i)),
        str(commune),
        str(text),
        None if village is None else int(str(village)),
        str(send_at),
        str(status),
        None if total is None else int(str(total)),
        int(str(by)),
        None if photo is None else str(photo),
        None if photo_channel is None else str(photo_channel),
    )


def key_prefix(announcement_id: int) -> str:
    return f"ann:{announcement_id}:"


async def create(
    conn: Conn,
    *,
    commune: str,
    text: str,
    village_id: int | None,
    send_at: datetime,
    member_id: int,
    now: datetime,
    photo: tuple[str, str] | None = None,  # (channel, the platform's id of the photo)
) -> Announcement:
    async with conn.execute(
        "INSERT INTO announcements (commune, text, village_id, send_at, created_by, created_at, photo_channel,"
        f" photo_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
        (
            commune,
            text[: MAX_CAPTION if photo else MAX_TEXT],
            village_id,
            utc_text(send_at),
            member_id,
            utc_text(now),
            photo[0] if photo else None,
            photo[1] if photo else None,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _announcement(tuple(row))


async def get(conn: Conn, commune: str, announcement_id: int) -> Announcement | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM announcements WHERE id = ? AND commune = ?", (announcement_id, commune)
    )
    row = next(iter(rows), None)
    return None if row is None else _announcement(tuple(row))


async def recent(conn: Conn, commune: str, limit: int = 5) -> list[Announcement]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM announcements WHERE commune = ? ORDER BY id DESC LIMIT ?", (commune, limit)
    )
    return [_announcement(tuple(r)) for r in rows]


async def due(conn: Conn, commune: str, now: datetime) -> list[Announcement]:
    """Scheduled ones whose time has come, and any a restart left half-queued."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM announcements WHERE commune = ? AND status IN ('scheduled', 'queuing')"
        " AND send_at <= ? ORDER BY send_at, id",
        (commune, utc_text(now)),
    )
    return [_announcement(tuple(r)) for r in rows]


async def set_status(conn: Conn, announcement_id: int, status: str, *, total: int | None = None) -> bool:
    """Move on unless it was cancelled meanwhile (then False)."""
    cursor = await conn.execute(
        "UPDATE announcements SET status = ?, total = coalesce(?, total) WHERE id = ?"
        " AND status IN ('scheduled', 'queuing')",
        (status, total, announcement_id),
    )
    return cursor.rowcount == 1


async def cancel(conn: Conn, announcement_id: int, now: datetime) -> int | None:
    """Call it off: the rows not yet sent are marked cancelled; returns how many were stopped, or None when
    there was nothing left to stop (cancelled already, or everything sent)."""
    stamp = utc_text(now)
    prefix = key_prefix(announcement_id)
    cursor = await conn.execute(
        "UPDATE announcements SET status = 'cancelled', cancelled_at = ? WHERE id = ?"
        " AND (status IN ('scheduled', 'queuing') OR (status = 'queued' AND EXISTS (SELECT 1 FROM outbox"
        " WHERE dedupe_key >= ? AND dedupe_key < ? AND status = 'pending')))",
        (stamp, announcement_id, prefix, prefix[:-1] + ";"),
    )
    if cursor.rowcount != 1:
        return None
    stopped = await conn.execute(
        "UPDATE outbox SET status = 'cancelled', done_at = ?, payload = '', file_data = NULL"
        " WHERE dedupe_key >= ? AND dedupe_key < ? AND status = 'pending'",
        (stamp, prefix, prefix[:-1] + ";"),
    )
    return stopped.rowcount


async def progress(conn: Conn, announcement: Announcement) -> Progress:
    """How far it has gone, from its outbox rows (the key range uses the unique index)."""
    prefix = key_prefix(announcement.id)
    rows = await conn.execute_fetchall(
        "SELECT status, count(*) FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? GROUP BY status",
        (prefix, prefix[:-1] + ";"),
    )
    counts = {str(r[0]): int(r[1]) for r in rows}
    return Progress(
        total=announcement.total if announcement.total is not None else sum(counts.values()),
        sent=counts.get("sent", 0) + counts.get("unknown", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0),
        cancelled=counts.get("cancelled", 0),
    )
