"""Which guides are opened, and how (menu, search, deep link): for the "most used guides" digest."""

from __future__ import annotations

from datetime import datetime

from bot.store.database import Conn


async def record(conn: Conn, *, guide_id: str, channel: str, source: str, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO guide_views (guide_id, channel, source, viewed_at) VALUES (?, ?, ?, ?)",
        (guide_id, channel, source, now.isoformat(timespec="seconds")),
    )


async def counts(conn: Conn, since: datetime) -> dict[str, int]:
    async with conn.execute(
        "SELECT guide_id, count(*) FROM guide_views WHERE viewed_at >= ? GROUP BY guide_id",
        (since.isoformat(timespec="seconds"),),
    ) as cursor:
        return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}
