"""Requests to move a household to another village, decided by an officer.

A volunteer who finds a household listed under another village ("it moved here") cannot move it
themselves: the roster is the commune's, and a move changes two villages' figures. One pending
request per household; the decision is one conditional UPDATE, so two officers cannot both decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn


@dataclass(frozen=True, slots=True)
class Move:
    id: int
    household_id: int
    from_village: int
    to_village: int
    requested_by: int
    status: str  # pending | approved | refused


_COLUMNS = "id, household_id, from_village, to_village, requested_by, status"


def _move(row: Sequence[object]) -> Move:
    i, household, old, new, by, status = row
    return Move(int(str(i)), int(str(household)), int(str(old)), int(str(new)), int(str(by)), str(status))


async def request(
    conn: Conn, *, commune: str, household_id: int, from_village: int, to_village: int, member_id: int, now: datetime
) -> tuple[Move, bool]:
    """Ask once: a second request for the same household while one is pending returns the pending one."""
    cursor = await conn.execute(
        "INSERT INTO household_moves (commune, household_id, from_village, to_village, requested_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (commune, household_id, from_village, to_village, member_id, now.isoformat(timespec="seconds")),
    )
    created = cursor.rowcount == 1
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM household_moves WHERE household_id = ? AND status = 'pending'", (household_id,)
    )
    move = _move(tuple(next(iter(rows))))
    return move, created


async def get(conn: Conn, commune: str, move_id: int) -> Move | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM household_moves WHERE id = ? AND commune = ?", (move_id, commune)
    )
    row = next(iter(rows), None)
    return None if row is None else _move(tuple(row))


async def decide(conn: Conn, move_id: int, *, approve: bool, member_id: int, now: datetime) -> bool:
    """Approve (the household changes village) or refuse; False when it was already decided."""
    # An approval finds the household where the request saw it; moved meanwhile, it is refused.
    still_there = (
        "EXISTS (SELECT 1 FROM households h WHERE h.id = household_moves.household_id"
        " AND h.village_id = household_moves.from_village)"
    )
    cursor = await conn.execute(
        "UPDATE household_moves SET status = ?, decided_at = ?, decided_by = ? WHERE id = ? AND status = 'pending'"
        + (f" AND {still_there}" if approve else ""),
        ("approved" if approve else "refused", now.isoformat(timespec="seconds"), member_id, move_id),
    )
    if cursor.rowcount != 1:
        return False
    if approve:
        await conn.execute(
            "UPDATE households SET village_id = (SELECT to_village FROM household_moves WHERE id = ?),"
            " updated_at = ? WHERE id = (SELECT household_id FROM household_moves WHERE id = ?)",
            (move_id, now.isoformat(timespec="seconds"), move_id),
        )
    return True
