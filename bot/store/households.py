"""Households of a commune: the roster (imported or added in the field) with each one's status.

`reached_at` and `last_visit_at` are kept on the household (recomputed whenever one of its visits
changes) so that progress and to-do lists stay fast on a province-sized database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz, process

from bot.store.database import Conn
from bot.store.database import opt_str as _opt
from bot.text import fold

PRIORITY_ORDER = ("elderly", "disabled", "poor", "ethnic")


@dataclass(frozen=True, slots=True)
class Household:
    id: int
    commune: str
    code: str
    head_name: str
    village_id: int
    address: str | None
    members: int | None
    priorities: frozenset[str]
    added_in_field: bool
    reached_at: str | None
    last_visit_at: str | None


@dataclass(frozen=True, slots=True)
class NewHousehold:
    """One validated roster row, its village already resolved."""

    code: str
    head_name: str
    village_id: int
    address: str | None
    members: int | None
    priorities: frozenset[str]


@dataclass(frozen=True, slots=True)
class VillageProgress:
    village_id: int
    name: str
    total: int
    reached: int
    new_this_week: int


_COLUMNS = (
    "id, commune, code, head_name, village_id, address, members, priorities, added_in_field, reached_at, last_visit_at"
)


def code_key(code: str) -> str:
    return code.strip().casefold()


def _household(row: Sequence[object]) -> Household:
    i, commune, code, head, village, address, members, prios, field, reached, last = row
    return Household(
        int(str(i)),
        str(commune),
        str(code),
        str(head),
        int(str(village)),
        _opt(address),
        None if members is None else int(str(members)),
        frozenset(p for p in str(prios).split(",") if p),
        bool(field),
        _opt(reached),
        _opt(last),
    )


def _priorities(values: Iterable[str]) -> tuple[str, int]:
    chosen = [p for p in PRIORITY_ORDER if p in set(values)]
    return ",".join(chosen), int(bool(chosen))


async def get(conn: Conn, commune: str, household_id: int) -> Household | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM households WHERE id = ? AND commune = ?", (household_id, commune)
    )
    row = next(iter(rows), None)
    return _household(tuple(row)) if row is not None else None


FUZZY_CUTOFF = 85  # rapidfuzz WRatio, 0–100: "nguyen van hunh" → "nguyen van hung" scores 93
FUZZY_SPREAD = 5  # keep only names about as close as the best one
FUZZY_POOL = 50_000  # names compared at most (a commune has a few thousand households)


async def search(conn: Conn, village_ids: Sequence[int], query: str, limit: int = 8) -> list[Household]:
    """By code (prefix first) or by the head's name, diacritic-insensitive, within the given villages.

    When nothing contains the typed text, names within a light typo are offered ("nguyen van hunh",
    "ngyen van an", "nguyen hung"): volunteers type fast on small phones.
    """
    if not village_ids:
        return []
    key, folded = code_key(query), fold(query)
    marks = ",".join("?" * len(village_ids))
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM households WHERE village_id IN ({marks})"
        " AND (code_key LIKE ? ESCAPE '\\' OR head_folded LIKE ? ESCAPE '\\')"
        " ORDER BY (code_key = ?) DESC, (code_key LIKE ? ESCAPE '\\') DESC, head_folded LIMIT ?",
        (*village_ids, f"%{_like(key)}%", f"%{_like(folded)}%", key, f"{_like(key)}%", limit),
    )
    if rows or len(folded.replace(" ", "")) < 4:
        return [_household(tuple(r)) for r in rows]
    return await _near_names(conn, village_ids, folded, limit)


async def _near_names(conn: Conn, village_ids: Sequence[int], folded: str, limit: int) -> list[Household]:
    marks = ",".join("?" * len(village_ids))
    pool = await conn.execute_fetchall(
        f"SELECT id, head_folded FROM households WHERE village_id IN ({marks}) LIMIT ?",
        (*village_ids, FUZZY_POOL),
    )
    names = {int(r[0]): str(r[1]) for r in pool}
    found = process.extract(folded, names, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF, limit=limit)
    if not found:
        return []
    best = found[0][1]
    ids = [int(i) for _, score, i in found if score >= best - FUZZY_SPREAD]
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM households WHERE id IN ({','.join('?' * len(ids))})", tuple(ids)
    )
    by_id = {int(str(r[0])): _household(tuple(r)) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def add_in_field(
    conn: Conn, *, commune: str, village_id: int, head_name: str, member_id: int, now: datetime
) -> Household:
    """A household a volunteer found missing from the roster; its code is generated (TD-0001, …)."""
    stamp = now.isoformat(timespec="seconds")
    rows = await conn.execute_fetchall(
        "SELECT count(*) FROM households WHERE commune = ? AND added_in_field = 1", (commune,)
    )
    n = int(next(iter(rows))[0])
    while True:
        n += 1
        code = f"TD-{n:04d}"
        async with conn.execute(
            "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id,"
            " added_in_field, added_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)"
            " ON CONFLICT (commune, code_key) DO NOTHING RETURNING id",
            (commune, code, code_key(code), head_name, fold(head_name), village_id, member_id, stamp, stamp),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            household = await get(conn, commune, int(row[0]))
            assert household is not None
            return household


async def upsert_many(conn: Conn, commune: str, rows: Sequence[NewHousehold], now: datetime) -> tuple[int, int]:
    """Insert new codes, update known ones in place (same id, so visit history stays). → (added, updated).

    A big roster (100,000 rows: ~2 s) is written from a worker thread, so the event loop keeps
    receiving and sending meanwhile; the transaction (and so the write lock) is the caller's.
    """
    stamp = now.isoformat(timespec="seconds")

    def write(raw: sqlite3.Connection) -> tuple[int, int]:
        known = {str(r[0]) for r in raw.execute("SELECT code_key FROM households WHERE commune = ?", (commune,))}
        params = []
        added = 0
        for row in rows:
            key = code_key(row.code)
            added += key not in known
            prios, rank = _priorities(row.priorities)
            params.append(
                (
                    commune,
                    row.code,
                    key,
                    row.head_name,
                    fold(row.head_name),
                    row.village_id,
                    row.address,
                    row.members,
                    prios,
                    rank,
                    stamp,
                    stamp,
                )
            )
        raw.executemany(
            "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id, address, members,"
            " priorities, priority_rank, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (commune, code_key) DO UPDATE SET code = excluded.code, head_name = excluded.head_name,"
            " head_folded = excluded.head_folded, village_id = excluded.village_id, address = excluded.address,"
            " members = excluded.members, priorities = excluded.priorities, priority_rank = excluded.priority_rank,"
            " updated_at = excluded.updated_at",
            params,
        )
        return added, len(rows) - added

    return await conn.run_sync(write) if len(rows) > 1000 else write(conn.raw)


async def set_status(conn: Conn, household_id: int, *, reached_at: str | None, last_visit_at: str | None) -> None:
    await conn.execute(
        "UPDATE households SET reached_at = ?, last_visit_at = ? WHERE id = ?",
        (reached_at, last_visit_at, household_id),
    )


async def progress(conn: Conn, village_ids: Sequence[int], since: datetime) -> list[VillageProgress]:
    """Reached / total per village, and how many became reached since `since` (the week's start)."""
    if not village_ids:
        return []
    marks = ",".join("?" * len(village_ids))
    rows = await conn.execute_fetchall(
        "SELECT v.id, v.name,"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.reached_at IS NOT NULL),"
        " (SELECT count(*) FROM households h WHERE h.village_id = v.id AND h.reached_at >= ?)"
        f" FROM villages v WHERE v.id IN ({marks}) ORDER BY v.id",
        (since.isoformat(timespec="seconds"), *village_ids),
    )
    return [VillageProgress(int(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def todo(conn: Conn, village_ids: Sequence[int], *, limit: int, offset: int) -> tuple[list[Household], int]:
    """Unreached households: priority groups first, then never visited, then longest since a visit."""
    if not village_ids:
        return [], 0
    marks = ",".join("?" * len(village_ids))
    where = f"village_id IN ({marks}) AND reached_at IS NULL"
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM households WHERE {where}"
        " ORDER BY priority_rank DESC, last_visit_at IS NOT NULL, last_visit_at, id LIMIT ? OFFSET ?",
        (*village_ids, limit, offset),
    )
    total = await conn.execute_fetchall(f"SELECT count(*) FROM households WHERE {where}", tuple(village_ids))
    return [_household(tuple(r)) for r in rows], int(next(iter(total))[0])
