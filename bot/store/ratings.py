"""Satisfaction ratings (1–5 ★) of guides and help visits; the plans measure satisfaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Conn

MAX_COMMENT = 500


@dataclass(frozen=True, slots=True)
class Rating:
    id: int
    subject_kind: str
    subject_id: str
    stars: int
    comment: str | None


async def rate(conn: Conn, *, subject_kind: str, subject_id: str, person: str, stars: int, now: datetime) -> int:
    """Store a rating; a person's later rating of the same thing replaces the earlier one."""
    if not 1 <= stars <= 5:
        raise ValueError("stars must be 1..5")
    async with conn.execute(
        "INSERT INTO ratings (subject_kind, subject_id, person, stars, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (subject_kind, subject_id, person)"
        " DO UPDATE SET stars = excluded.stars, comment = NULL, created_at = excluded.created_at"
        " RETURNING id",
        (subject_kind, subject_id, person, stars, now.isoformat(timespec="seconds")),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def add_comment(conn: Conn, rating_id: int, person: str, comment: str) -> bool:
    """Attach a comment to the person's own rating; False if it is not theirs or gone."""
    cursor = await conn.execute(
        "UPDATE ratings SET comment = ? WHERE id = ? AND person = ?",
        (comment[:MAX_COMMENT], rating_id, person),
    )
    changed = cursor.rowcount == 1
    await cursor.close()
    return changed


async def for_subject(conn: Conn, subject_kind: str, subject_id: str) -> list[Rating]:
    async with conn.execute(
        "SELECT id, subject_kind, subject_id, stars, comment FROM ratings"
        " WHERE subject_kind = ? AND subject_id = ? ORDER BY id",
        (subject_kind, subject_id),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Rating(int(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4]) for r in rows]


async def count_by_person(conn: Conn, person: str) -> int:
    rows = await conn.execute_fetchall("SELECT count(*) FROM ratings WHERE person = ?", (person,))
    return int(next(iter(rows))[0])


async def forget_person(conn: Conn, person: str) -> None:
    """Keep the stars (the commune's satisfaction figures), drop who gave them and what they wrote."""
    await conn.execute("UPDATE ratings SET person = 'forgotten:' || id, comment = NULL WHERE person = ?", (person,))


async def help_satisfaction(conn: Conn, commune: str) -> tuple[int, float, float]:
    """(ratings, average stars, share of ratings ≥ 4) of the commune's help requests: the plans'
    satisfaction figure."""
    rows = await conn.execute_fetchall(
        "SELECT count(*), avg(r.stars), avg(r.stars >= 4) FROM ratings r"
        " JOIN help_requests h ON r.subject_kind = 'help' AND r.subject_id = CAST(h.id AS TEXT)"
        " WHERE h.commune = ?",
        (commune,),
    )
    count, average, good = next(iter(rows))
    return int(count), float(average or 0), float(good or 0)
