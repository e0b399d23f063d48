"""The figures officers report every week and month — computed once, here, for the digest, the XLSX
report and the CLI preview alike, so the numbers in a chat and in a file can never disagree.

Periods are calendar weeks (ISO, Monday 00:00) and months in the commune's time zone, stored as UTC
bounds. Everything is read "as at the period's end": a household counts as reached at the end of a
week if its `reached_at` is before that end. (A visit withdrawn later moves `reached_at`, so a
re-run after a withdrawal may differ by that household: the digest sent is the record.)

`compute` takes a plain `sqlite3.Connection` on one snapshot: it runs in a worker (thread or process),
never on the event loop and never inside the write transaction.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.store import onestop as onestop_store
from bot.store.database import utc_text
from bot.store.onestop import OneStop

STALE_VOLUNTEER = timedelta(days=14)
WAITING_TOO_LONG = timedelta(hours=48)
PACE_WINDOW = timedelta(days=28)
BEHIND_SHOWN = 3
TOP_GUIDES = 5


@dataclass(frozen=True, slots=True)
class Period:
    kind: str  # "week" | "month" | "total" (everything up to a cut-off)
    label: str  # "2026-W47" | "2026-11" | the cut-off, "2026-12-02T09:15:00+00:00"
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    first_day: date  # in the commune's time zone
    last_day: date
    previous_start: datetime | None = None  # UTC start of the period before (None for a cumulative one)

    @property
    def number(self) -> int:
        """Week number or month number, for file names (Tuan47, Thang11); the day for a cumulative one."""
        if self.kind == "total":
            return self.last_day.day
        return int(self.label.rsplit("W" if self.kind == "week" else "-", 1)[1])

    @property
    def year(self) -> int:
        return self.last_day.year if self.kind == "total" else int(self.label[:4])


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC)


def week(label: str, timezone: str) -> Period:
    """The ISO week "2026-W47" in the commune's time zone."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", label)
    if match is None:
        raise ValueError(f"not an ISO week like 2026-W47: {label!r}")
    monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    tz = ZoneInfo(timezone)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    return Period(
        "week",
        label,
        _utc(start),
        _utc(start + timedelta(days=7)),
        monday,
        monday + timedelta(days=6),
        _utc(start - timedelta(days=7)),
    )


def month(label: str, timezone: str) -> Period:
    """The month "2026-11" in the commune's time zone."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"not a month like 2026-11: {label!r}")
    tz = ZoneInfo(timezone)
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    before = datetime(year - (number == 1), (number - 2) % 12 + 1, 1, tzinfo=tz)
    return Period("month", label, _utc(start), _utc(end), start.date(), (end - timedelta(days=1)).date(), _utc(before))


def previous_label(period: Period) -> str | None:
    """The label of the week or month before (None for a cumulative period)."""
    if period.kind == "week":
        year, number, _ = (period.first_day - timedelta(days=7)).isocalendar()
        return f"{year}-W{number:02d}"
    if period.kind == "month":
        last = period.first_day - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    return None


BEGINNING = datetime(2025, 7, 1, tzinfo=UTC)  # the communes as they are since the July 2025 reform


def cumulative(cutoff: datetime, timezone: str) -> Period:
    """Everything up to `cutoff` (its figures "this period" are the whole campaign so far)."""
    tz = ZoneInfo(timezone)
    end = cutoff.astimezone(UTC).replace(microsecond=0)
    return Period(
        "total",
        end.isoformat(timespec="seconds"),
        BEGINNING,
        end,
        BEGINNING.astimezone(tz).date(),
        end.astimezone(tz).date(),
    )


def period(kind: str, label: str, timezone: str) -> Period:
    """The period a label names: "week" 2026-W47, "month" 2026-11, "total" up to an ISO cut-off."""
    if kind == "total":
        return cumulative(datetime.fromisoformat(label), timezone)
    return week(label, timezone) if kind == "week" else month(label, timezone)


def last_ended(kind: str, now: datetime, timezone: str) -> Period:
    """The latest week or month that has ended by `now` (never one still running)."""
    local = now.astimezone(ZoneInfo(timezone))
    if kind == "week":
        year, number, _ = (local.date() - timedelta(days=7)).isocalendar()
        return week(f"{year}-W{number:02d}", timezone)
    previous = local.replace(day=1) - timedelta(days=1)
    return month(f"{previous.year}-{previous.month:02d}", timezone)


@dataclass(frozen=True, slots=True)
class VillageLine:
    name: str
    total: int
    reached: int  # at the period's end
    reached_before: int  # at the period's start

    @property
    def share(self) -> float:
        return self.reached / self.total if self.total else 0.0

    @property
    def share_before(self) -> float:
        return self.reached_before / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Figures:
    commune: str
    period: Period
    villages: list[VillageLine]
    pace_per_week: float  # households newly reached per week, over the last 4 weeks
    visits_by_volunteer: list[tuple[str, int]]
    idle_volunteers: list[str]
    visits: int
    visits_nothing_done: int
    help_new: int
    help_done: int
    help_waiting: int  # open at the period's end for more than 48 h
    guide_views: list[tuple[str, int]]  # guide id, views
    ratings: int
    rating_average: float | None
    ratings_good: int  # 4 or 5 stars
    target_date: date | None = None
    ratings_before: int = 0  # the period before, for the trend
    ratings_good_before: int = 0
    onestop: OneStop | None = None  # entered by an officer for this period
    onestop_before: OneStop | None = None  # …and for the one before (the trend)

    @property
    def total(self) -> int:
        return sum(v.total for v in self.villages)

    @property
    def reached(self) -> int:
        return sum(v.reached for v in self.villages)

    @property
    def reached_before(self) -> int:
        return sum(v.reached_before for v in self.villages)

    @property
    def behind(self) -> list[VillageLine]:
        """The villages furthest from the target (lowest share reached), those with households only."""
        return sorted((v for v in self.villages if v.total), key=lambda v: (v.share, v.name))[:BEHIND_SHOWN]

    @property
    def projected(self) -> date | None:
        """When every household is reached at the current pace (None: no pace, or already done)."""
        left = self.total - self.reached
        if left <= 0 or self.pace_per_week <= 0:
            return None
        return self.period.last_day + timedelta(days=1 + round(7 * left / self.pace_per_week))

    @property
    def satisfied_share(self) -> float | None:
        return self.ratings_good / self.ratings if self.ratings else None


def compute(conn: sqlite3.Connection, *, commune: str, period: Period, target_date: str | None = None) -> Figures:
    """Every figure of the digest for one commune and period, on one snapshot."""
    start, end = utc_text(period.start), utc_text(period.end)
    villages = [
        VillageLine(str(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0))
        for r in conn.execute(
            "SELECT v.name, count(h.id), sum(h.reached_at < ?), sum(h.reached_at < ?)"
            " FROM villages v LEFT JOIN households h ON h.village_id = v.id"
            " WHERE v.commune = ? GROUP BY v.id ORDER BY v.id",
            (end, start, commune),
        )
    ]
    recent = conn.execute(
        "SELECT count(*) FROM households WHERE commune = ? AND reached_at >= ? AND reached_at < ?",
        (commune, utc_text(period.end - PACE_WINDOW), end),
    ).fetchone()[0]
    volunteers = conn.execute(
        "SELECT m.label,"
        " (SELECT count(*) FROM visits x WHERE x.member_id = m.id AND x.created_at >= ? AND x.created_at < ?"
        "   AND x.withdrawn_at IS NULL),"
        " (SELECT max(x.created_at) FROM visits x WHERE x.member_id = m.id AND x.created_at < ?"
        "   AND x.withdrawn_at IS NULL)"
        " FROM members m WHERE m.commune = ? AND m.role = 'volunteer' AND m.active = 1 ORDER BY m.label",
        (start, end, end, commune),
    ).fetchall()
    stale = utc_text(period.end - STALE_VOLUNTEER)
    # By the commune's members (members belong to one commune): one index range per member.
    visits, nothing = conn.execute(
        "SELECT count(*), count(x.outcome) FROM visits x"
        " WHERE x.member_id IN (SELECT id FROM members WHERE commune = ?)"
        " AND x.created_at >= ? AND x.created_at < ? AND x.withdrawn_at IS NULL",
        (commune, start, end),
    ).fetchone()
    help_new, help_done, waiting = conn.execute(
        "SELECT sum(created_at >= ? AND created_at < ?),"
        " sum(status = 'done' AND closed_at >= ? AND closed_at < ?),"
        " sum(created_at < ? AND (closed_at IS NULL OR closed_at >= ?) AND taken_at IS NULL)"
        " FROM help_requests WHERE commune = ?",
        (start, end, start, end, utc_text(period.end - WAITING_TOO_LONG), end, commune),
    ).fetchone()
    guides = [
        (str(r[0]), int(r[1]))
        for r in conn.execute(
            "SELECT guide_id, count(*) FROM guide_views WHERE viewed_at >= ? AND viewed_at < ?"
            " GROUP BY guide_id ORDER BY count(*) DESC, guide_id LIMIT ?",
            (start, end, TOP_GUIDES),
        )
    ]
    ratings_sql = (
        "SELECT count(*), avg(r.stars), sum(r.stars >= 4) FROM ratings r"
        " JOIN help_requests q ON r.subject_kind = 'help' AND q.id = CAST(r.subject_id AS INTEGER)"
        " WHERE q.commune = ? AND r.created_at >= ? AND r.created_at < ?"
    )
    count, average, good = conn.execute(ratings_sql, (commune, start, end)).fetchone()
    before = previous_label(period)
    count_before, _, good_before = (
        conn.execute(ratings_sql, (commune, utc_text(period.previous_start), start)).fetchone()
        if period.previous_start is not None
        else (0, None, 0)
    )
    return Figures(
        commune=commune,
        period=period,
        villages=villages,
        pace_per_week=recent / (PACE_WINDOW.days / 7),
        visits_by_volunteer=[(str(r[0]), int(r[1])) for r in volunteers if r[1]],
        idle_volunteers=[str(r[0]) for r in volunteers if r[2] is None or str(r[2]) < stale],
        visits=int(visits),
        visits_nothing_done=int(nothing),
        help_new=int(help_new or 0),
        help_done=int(help_done or 0),
        help_waiting=int(waiting or 0),
        guide_views=guides,
        ratings=int(count),
        rating_average=None if average is None else float(average),
        ratings_good=int(good or 0),
        target_date=date.fromisoformat(target_date) if target_date else None,
        ratings_before=int(count_before),
        ratings_good_before=int(good_before or 0),
        onestop=onestop_store.read(conn, commune, period.label),
        onestop_before=onestop_store.read(conn, commune, before) if before else None,
    )
