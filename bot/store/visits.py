"""Household visits: what the trained person can now do, logged once per confirmation.

A visit where nothing could be done is logged too, with its reason (`outcome`): it counts as a
visit (the household was not forgotten) and never toward reached, because its skills are 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn
from bot.store.database import opt_str as _opt


@dataclass(frozen=True, slots=True)
class Visit:
    id: int
    household_id: int
    member_id: int
    skills: int
    person: str | None
    note: str | None
    created_at: datetime
    withdrawn_at: str | None
    outcome: str | None = None  # why nothing was achieved (OUTCOMES); None for a visit that trained someone
    outside: bool = False  # the household is not in the volunteer's villages


OUTCOMES = ("no_phone", "no_chip", "not_home", "refused", "other")
_COLUMNS = "id, household_id, member_id, skills, person, note, created_at, withdrawn_at, outcome, outside"


def _check_outcome(outcome: str | None, skills: int) -> None:
    if outcome is not None and (outcome not in OUTCOMES or skills):
        raise ValueError("a visit with nothing achieved has a known reason and no skills")


def _visit(row: Sequence[object]) -> Visit:
    i, household, member, skills, person, note, created, withdrawn, outcome, outside = row
    return Visit(
        int(str(i)),
        int(str(household)),
        int(str(member)),
        int(str(skills)),
        _opt(person),
        _opt(note),
        datetime.fromisoformat(str(created)),
        _opt(withdrawn),
        _opt(outcome),
        bool(outside),
    )


async def record(
    conn: Conn,
    *,
    request_key: str,
    household_id: int,
    member_id: int,
    skills: int,
    person: str | None,
    person_key: str,
    note: str | None,
    now: datetime,
    outcome: str | None = None,
    outside: bool = False,
    help_id: int | None = None,
) -> tuple[Visit, bool]:
    """Insert once per request key: a double tap or a re-delivered confirm returns the first visit."""
    _check_outcome(outcome, skills)
    stamp = now.isoformat(timespec="seconds")
    cursor = await conn.execute(
        "INSERT INTO visits (household_id, member_id, request_key, skills, person, person_key, note,"
        " created_at, updated_at, outcome, outside, help_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (request_key) DO NOTHING",
        (
            household_id,
            member_id,
            request_key,
            skills,
            person,
            person_key,
            note,
            stamp,
            stamp,
            outcome,
            int(outside),
            help_id,
        ),
    )
    created = cursor.rowcount == 1
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM visits WHERE request_key = ?", (request_key,))
    return _visit(tuple(next(iter(rows)))), created


async def household_for_key(conn: Conn, request_key: str) -> int | None:
    """The household of the visit stored under this confirmation key, if any."""
    rows = await conn.execute_fetchall("SELECT household_id FROM visits WHERE request_key = ?", (request_key,))
    row = next(iter(rows), None)
    return int(row[0]) if row is not None else None


async def people_of(conn: Conn, household_id: int, limit: int = 5) -> list[str]:
    """Names of the people trained on the household's visits, latest first."""
    rows = await conn.execute_fetchall(
        "SELECT DISTINCT person FROM visits WHERE household_id = ? AND withdrawn_at IS NULL"
        " AND person IS NOT NULL ORDER BY id DESC LIMIT ?",
        (household_id, limit),
    )
    return [str(r[0]) for r in rows]


async def get(conn: Conn, visit_id: int) -> Visit | None:
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM visits WHERE id = ?", (visit_id,))
    row = next(iter(rows), None)
    return _visit(tuple(row)) if row is not None else None


async def update(
    conn: Conn,
    visit_id: int,
    *,
    skills: int,
    person: str | None,
    person_key: str,
    note: str | None,
    now: datetime,
    outcome: str | None = None,
) -> None:
    _check_outcome(outcome, skills)
    await conn.execute(
        "UPDATE visits SET skills = ?, person = ?, person_key = ?, note = ?, outcome = ?, updated_at = ? WHERE id = ?",
        (skills, person, person_key, note, outcome, now.isoformat(timespec="seconds"), visit_id),
    )


async def withdraw(conn: Conn, visit_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE visits SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
        (now.isoformat(timespec="seconds"), visit_id),
    )


async def active_for_household(
    conn: Conn, household_id: int, *, leave_out: int | None = None
) -> list[tuple[str, int, str]]:
    """(person_key, skills, created_at) of the household's visits that were not withdrawn
    (without visit `leave_out`: the one being corrected)."""
    rows = await conn.execute_fetchall(
        "SELECT person_key, skills, created_at FROM visits WHERE household_id = ? AND withdrawn_at IS NULL"
        " AND id IS NOT ?",
        (household_id, leave_out),
    )
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


async def by_member_since(conn: Conn, member_id: int, since: datetime, limit: int = 200) -> list[Visit]:
    """All the member's visits since `since`, withdrawn ones included, latest first ("my week")."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM visits WHERE member_id = ? AND created_at >= ? ORDER BY id DESC LIMIT ?",
        (member_id, since.isoformat(timespec="seconds"), limit),
    )
    return [_visit(tuple(r)) for r in rows]


async def recent_by_member(conn: Conn, member_id: int, since: datetime) -> list[Visit]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM visits WHERE member_id = ? AND created_at >= ? AND withdrawn_at IS NULL"
        " ORDER BY id DESC LIMIT 10",
        (member_id, since.isoformat(timespec="seconds")),
    )
    return [_visit(tuple(r)) for r in rows]
