"""Villages (thôn, xóm, tổ dân phố) of a commune: seeded from the commune settings, added by officers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.store.database import Conn
from bot.text import fold


@dataclass(frozen=True, slots=True)
class Village:
    id: int
    commune: str
    code: str
    name: str


_COLUMNS = "id, commune, code, name"


def _village(row: Iterable[object]) -> Village:
    i, commune, code, name = tuple(row)
    return Village(int(str(i)), str(commune), str(code), str(name))


async def sync(conn: Conn, commune: str, villages: Iterable[tuple[str, str]]) -> int:
    """Add the villages of the commune settings that the database lacks; never deletes any."""
    added = 0
    for code, name in villages:
        cursor = await conn.execute(
            "INSERT INTO villages (commune, code, name, folded) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (commune, code) DO NOTHING",
            (commune, code, name, fold(name)),
        )
        added += cursor.rowcount
    return added


async def for_commune(conn: Conn, commune: str) -> list[Village]:
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM villages WHERE commune = ? ORDER BY id", (commune,))
    return [_village(r) for r in rows]


async def get(conn: Conn, commune: str, village_id: int) -> Village | None:
    """A village of this commune only: ids from button data are never trusted across communes."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM villages WHERE id = ? AND commune = ?", (village_id, commune)
    )
    row = next(iter(rows), None)
    return None if row is None else _village(row)


async def add(conn: Conn, commune: str, name: str) -> Village:
    """A village an officer confirmed while importing; its code is generated (V001, V002, …)."""
    rows = await conn.execute_fetchall("SELECT count(*) FROM villages WHERE commune = ?", (commune,))
    n = int(next(iter(rows))[0])
    while True:
        n += 1
        code = f"V{n:03d}"
        async with conn.execute(
            "INSERT INTO villages (commune, code, name, folded) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (commune, code) DO NOTHING RETURNING id",
            (commune, code, name, fold(name)),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return Village(int(row[0]), commune, code, name)


def matcher(villages: Iterable[Village]) -> dict[str, Village]:
    """Lookup by code or by name, diacritic- and case-insensitive ("Thon 3" finds "Thôn 3")."""
    table: dict[str, Village] = {}
    for village in villages:
        table.setdefault(fold(village.code), village)
        table[fold(village.name)] = village
    return table
