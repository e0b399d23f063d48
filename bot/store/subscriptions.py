"""Who wants the commune's announcements (🔔), for the whole commune or one village.

Sending them, on a schedule and within the platform's limits, is the scheduler's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.messages import Recipient
from bot.store.database import Conn


@dataclass(frozen=True, slots=True)
class Subscription:
    commune: str
    village_id: int | None  # None: every announcement of the commune


async def get(conn: Conn, who: Recipient) -> Subscription | None:
    rows = await conn.execute_fetchall(
        "SELECT commune, village_id FROM subscriptions WHERE channel = ? AND chat_id = ?", (who.channel, who.chat_id)
    )
    row = next(iter(rows), None)
    return None if row is None else Subscription(str(row[0]), None if row[1] is None else int(row[1]))


async def subscribe(conn: Conn, who: Recipient, commune: str, village_id: int | None, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO subscriptions (channel, chat_id, commune, village_id, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (channel, chat_id) DO UPDATE SET commune = excluded.commune, village_id = excluded.village_id",
        (who.channel, who.chat_id, commune, village_id, now.isoformat(timespec="seconds")),
    )


async def unsubscribe(conn: Conn, who: Recipient) -> bool:
    cursor = await conn.execute(
        "DELETE FROM subscriptions WHERE channel = ? AND chat_id = ?", (who.channel, who.chat_id)
    )
    removed = cursor.rowcount == 1
    await cursor.close()
    return removed


async def counts(conn: Conn, commune: str) -> dict[int | None, int]:
    """Subscribers per village (None: those who want every announcement of the commune)."""
    rows = await conn.execute_fetchall(
        "SELECT village_id, count(*) FROM subscriptions WHERE commune = ? GROUP BY village_id", (commune,)
    )
    return {None if r[0] is None else int(r[0]): int(r[1]) for r in rows}


async def audience(conn: Conn, commune: str, village_id: int | None) -> list[Recipient]:
    """Who receives an announcement for the commune (`village_id` None: every subscriber, since it
    concerns every village) or for one village (its subscribers and the commune-wide ones)."""
    if village_id is None:
        rows = await conn.execute_fetchall(
            "SELECT channel, chat_id FROM subscriptions WHERE commune = ? ORDER BY channel, chat_id",
            (commune,),
        )
    else:
        rows = await conn.execute_fetchall(
            "SELECT channel, chat_id FROM subscriptions WHERE commune = ? AND (village_id IS NULL OR village_id = ?)"
            " ORDER BY channel, chat_id",
            (commune, village_id),
        )
    return [Recipient(str(r[0]), str(r[1])) for r in rows]
