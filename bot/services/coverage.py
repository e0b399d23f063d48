"""Visits → household status, and progress figures, using the single rule in `bot.coverage`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.coverage import is_reached
from bot.store import Conn
from bot.store import households as households_store
from bot.store import visits as visits_store
from bot.store.households import VillageProgress


async def refresh_household(conn: Conn, household_id: int, now: datetime) -> bool:
    """Recompute `reached_at` and `last_visit_at` from the household's visits; returns reached."""
    active = await visits_store.active_for_household(conn, household_id)
    reached = is_reached((person, skills) for person, skills, _ in active)
    rows = await conn.execute_fetchall("SELECT reached_at FROM households WHERE id = ?", (household_id,))
    previous = next(iter(rows))[0]
    reached_at = (previous or now.isoformat(timespec="seconds")) if reached else None
    last_visit = max((created for _, _, created in active), default=None)
    await households_store.set_status(conn, household_id, reached_at=reached_at, last_visit_at=last_visit)
    return reached


def week_start(now: datetime, timezone: str) -> datetime:
    """Monday 00:00 of this week in the commune's time zone."""
    local = now.astimezone(ZoneInfo(timezone))
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday.astimezone(now.tzinfo)


def percent(part: int, whole: int) -> str:
    """Vietnamese decimal comma: 62,9 %."""
    return f"{100 * part / whole:.1f}".replace(".", ",") + " %" if whole else "0 %"


def progress_line(p: VillageProgress) -> str:
    if p.total == 0:
        return f"{p.name}: chưa có hộ nào trong danh sách"
    line = f"{p.name}: {p.reached}/{p.total} hộ đạt ({percent(p.reached, p.total)})"
    return line + (f", tuần này +{p.new_this_week}" if p.new_this_week else "")
