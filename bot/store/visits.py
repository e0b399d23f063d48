"""Household visits: what the trained person can now do, logged once per confirmation."""

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


_COLUMNS = "id, household_id, member_id, skills, person, note, created_at, withdrawn_at"


def _visit(row: Sequence[object]) -> Visit:
    i, household, member, skills, person, note, created, withdrawn = row
    return Visit(
        int(str(i)),
        int(str(household)),
        int(str(member)),
        int(str(skills)),
        _opt(person),
        _opt(note),
        datetime.fromisoformat(str(created)),
        _opt(withdrawn),
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
) -> tuple[Visit, bool]:
    """Insert once per request key: a double tap or a re-delivered confirm returns the first visit."""
    stamp = now.isoformat(timespec="seconds")
    cursor = await conn.execute(
        "INSERT INTO visits (household_id, member_id, request_key, skills, person, person_key, note,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_key) DO NOTHING",
        (household_id, member_id, request_key, skills, person, person_key, note, stamp, stamp),
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
) -> None:
    await conn.execute(
        "UPDATE visits SET skills = ?, person = ?, person_key = ?, note = ?, updated_at = ? WHERE id = ?",
        (skills, person, person_key, note, now.isoformat(timespec="seconds"), visit_id),
    )


async def withdraw(conn: Conn, visit_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE visits SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
        (now.isoformat(timespec="seconds"), visit_id),
    )


async def active_for_household(conn: Conn, household_id: int) -> list[tuple[str, int, str]]:
    """(person_key, skills, created_at) of the household's visits that were not withdrawn."""
    rows = await conn.execute_fetchall(
        "SELECT person_key, skills, created_at FROM visits WHERE household_id = ? AND withdrawn_at IS NULL",
        (household_id,),
    )
    return [(str(r[0]), int(r[1]), str(r[2])) for r in rows]


async def recent_by_member(conn: Conn, member_id: int, since: datetime) -> list[Visit]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM visits WHERE member_id = ? AND created_at >= ? AND withdrawn_at IS NULL"
        " ORDER BY id DESC LIMIT 10",
        (member_id, since.isoformat(timespec="seconds")),
    )
    return [_visit(tuple(r)) for r in rows]
