"""Members of a commune's team: volunteers (with their villages), officers and admins.

A person is a citizen unless an active member row says otherwise; deactivating keeps the row and
its history (visits keep pointing at it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    channel: str
    chat_id: str
    commune: str
    role: str
    label: str
    active: bool
    village_ids: tuple[int, ...]


async def _villages_of(conn: Conn, member_id: int) -> tuple[int, ...]:
    rows = await conn.execute_fetchall(
        "SELECT village_id FROM member_villages WHERE member_id = ? ORDER BY village_id", (member_id,)
    )
    return tuple(int(r[0]) for r in rows)


def _member(row: Sequence[object], villages: tuple[int, ...]) -> Member:
    i, channel, chat_id, commune, role, label, active = row
    return Member(int(str(i)), str(channel), str(chat_id), str(commune), str(role), str(label), bool(active), villages)


_COLUMNS = "id, channel, chat_id, commune, role, label, active"


async def get(conn: Conn, channel: str, chat_id: str) -> Member | None:
    """The member this chat is, directly or as a linked chat (`bot.store.identities`)."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, 0 AS linked FROM members WHERE channel = ? AND chat_id = ?"
        f" UNION ALL SELECT {_COLUMNS}, 1 FROM members WHERE id ="
        " (SELECT member_id FROM member_identities WHERE channel = ? AND chat_id = ?)) ORDER BY linked LIMIT 1",
        (channel, chat_id, channel, chat_id),
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return _member(tuple(row), await _villages_of(conn, int(row[0])))


async def by_id(conn: Conn, commune: str, member_id: int) -> Member | None:
    """A member of this commune only: ids from button data are never trusted across communes."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM members WHERE id = ? AND commune = ?", (member_id, commune)
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return _member(tuple(row), await _villages_of(conn, member_id))


async def with_id(conn: Conn, member_id: int) -> Member | None:
    """A member by id, in any commune: only for ids the bot stored itself (a link code), never for
    ids from button data (`by_id`)."""
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,))
    row = next(iter(rows), None)
    return _member(tuple(row), await _villages_of(conn, member_id)) if row is not None else None


async def for_commune(conn: Conn, commune: str) -> list[Member]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM members WHERE commune = ? ORDER BY active DESC, role DESC, label", (commune,)
    )
    return [_member(tuple(r), await _villages_of(conn, int(r[0]))) for r in rows]


async def officers(conn: Conn, commune: str) -> list[Member]:
    """The commune's active officers (and admins): who hears what no volunteer can take."""
    return [m for m in await for_commune(conn, commune) if m.active and m.role in ("officer", "admin")]


async def join(
    conn: Conn,
    *,
    channel: str,
    chat_id: str,
    commune: str,
    role: str,
    label: str,
    village_ids: Iterable[int],
    now: datetime,
) -> Member:
    """Create the member, or give an existing person (even a deactivated one) the invite's role."""
    stamp = now.isoformat(timespec="seconds")
    await conn.execute(
        "INSERT INTO members (channel, chat_id, commune, role, label, active, joined_at)"
        " VALUES (?, ?, ?, ?, ?, 1, ?)"
        " ON CONFLICT (channel, chat_id) DO UPDATE SET commune = excluded.commune, role = excluded.role,"
        " label = excluded.label, active = 1, deactivated_at = NULL",
        (channel, chat_id, commune, role, label, stamp),
    )
    # A chat linked to another member that joins on its own is that member no longer.
    await conn.execute("DELETE FROM member_identities WHERE channel = ? AND chat_id = ?", (channel, chat_id))
    member = await get(conn, channel, chat_id)
    assert member is not None
    await set_villages(conn, member.id, village_ids)
    return await get(conn, channel, chat_id) or member


async def set_villages(conn: Conn, member_id: int, village_ids: Iterable[int]) -> None:
    await conn.execute("DELETE FROM member_villages WHERE member_id = ?", (member_id,))
    await conn.executemany(
        "INSERT INTO member_villages (member_id, village_id) VALUES (?, ?)",
        [(member_id, v) for v in sorted(set(village_ids))],
    )


async def set_active(conn: Conn, member_id: int, active: bool, now: datetime) -> None:
    await conn.execute(
        "UPDATE members SET active = ?, deactivated_at = ? WHERE id = ?",
        (int(active), None if active else now.isoformat(timespec="seconds"), member_id),
    )
