"""⏰ Reminders a citizen asked for at a guide step that makes them wait (an approval, an application being
processed): sent once, at the time chosen in the commune's time zone, unless cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Recipient
from bot.store.database import Conn, utc_text

MAX_PENDING = 5  # per person: enough for real use, not a way to flood anyone


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    to: Recipient
    guide_id: str
    step: int
    due_at: datetime


_COLUMNS = "id, channel, chat_id, guide_id, step, due_at"


def _reminder(row: Sequence[object]) -> Reminder:
    i, channel, chat, guide, step, due = row
    return Reminder(int(str(i)), Recipient(str(channel), str(chat)), str(guide), int(str(step)),
                    datetime.fromisoformat(str(due)))  # fmt: skip


async def pending_of(conn: Conn, who: Recipient) -> list[Reminder]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM reminders WHERE channel = ? AND chat_id = ? AND sent_at IS NULL"
        " AND cancelled_at IS NULL ORDER BY due_at",
        (who.channel, who.chat_id),
    )
    return [_reminder(tuple(r)) for r in rows]


async def add(conn: Conn, who: Recipient, guide_id: str, step: int, due: datetime, now: datetime) -> Reminder | None:
    """None when the person already has MAX_PENDING waiting; the same guide step is asked once (updated)."""
    for existing in await pending_of(conn, who):
        if existing.guide_id == guide_id and existing.step == step:
            await conn.execute("UPDATE reminders SET due_at = ? WHERE id = ?", (utc_text(due), existing.id))
            return Reminder(existing.id, who, guide_id, step, due)
    if len(await pending_of(conn, who)) >= MAX_PENDING:
        return None
    async with conn.execute(
        f"INSERT INTO reminders (channel, chat_id, guide_id, step, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)"
        f" RETURNING {_COLUMNS}",
        (
            who.channel,
            who.chat_id,
            guide_id,
            step,
            utc_text(due),
            utc_text(now),
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _reminder(tuple(row))


async def cancel(conn: Conn, reminder_id: int, who: Recipient, now: datetime) -> bool:
    """Only the person's own, only if not sent yet."""
    cursor = await conn.execute(
        "UPDATE reminders SET cancelled_at = ? WHERE id = ? AND channel = ? AND chat_id = ? AND sent_at IS NULL"
        " AND cancelled_at IS NULL",
        (utc_text(now), reminder_id, who.channel, who.chat_id),
    )
    return cursor.rowcount == 1


async def due(conn: Conn, now: datetime, limit: int = 500) -> list[Reminder]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM reminders WHERE sent_at IS NULL AND cancelled_at IS NULL AND due_at <= ?"
        " ORDER BY due_at LIMIT ?",
        (utc_text(now), limit),
    )
    return [_reminder(tuple(r)) for r in rows]


async def mark_sent(conn: Conn, reminder_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE reminders SET sent_at = ? WHERE id = ? AND sent_at IS NULL AND cancelled_at IS NULL",
        (utc_text(now), reminder_id),
    )
    return cursor.rowcount == 1


async def forget(conn: Conn, who: Recipient) -> int:
    cursor = await conn.execute("DELETE FROM reminders WHERE channel = ? AND chat_id = ?", (who.channel, who.chat_id))
    return cursor.rowcount
