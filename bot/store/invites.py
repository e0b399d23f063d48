"""One-time invite codes: single use, 7-day expiry, stored only as a hash, revocable.

Codes are 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as ABCD-EFGH:
about 40 bits, and guessing is further limited to 5 wrong tries an hour per person.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store.database import Conn
from bot.store.database import opt_str as _opt

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TTL = timedelta(days=7)
MAX_FAILURES = 5
LOCKOUT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    commune: str
    role: str
    label: str
    village_ids: tuple[int, ...]
    expires_at: datetime
    used_at: str | None
    revoked_at: str | None


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str:
    """What a person typed, as stored: upper case, no spaces or dashes ("abcd efgh" = "ABCD-EFGH")."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


_COLUMNS = "id, commune, role, label, village_ids, expires_at, used_at, revoked_at"


def _invite(row: tuple[object, ...]) -> Invite:
    i, commune, role, label, villages, expires, used, revoked = row
    return Invite(
        int(str(i)),
        str(commune),
        str(role),
        str(label),
        tuple(json.loads(str(villages))),
        datetime.fromisoformat(str(expires)),
        _opt(used),
        _opt(revoked),
    )


async def create(
    conn: Conn,
    *,
    commune: str,
    role: str,
    label: str,
    village_ids: list[int],
    created_by: int | None,
    now: datetime,
) -> tuple[Invite, str]:
    """A new invite and its code; the code itself is shown once and never stored."""
    code = new_code()
    cursor = await conn.execute(
        "INSERT INTO invites (commune, role, label, village_ids, code_hash, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            commune,
            role,
            label,
            json.dumps(sorted(village_ids)),
            hash_code(code),
            created_by,
            now.isoformat(timespec="seconds"),
            (now + TTL).isoformat(timespec="seconds"),
        ),
    )
    invite = await get(conn, commune, int(cursor.lastrowid or 0))
    assert invite is not None
    return invite, code


async def get(conn: Conn, commune: str, invite_id: int) -> Invite | None:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM invites WHERE id = ? AND commune = ?", (invite_id, commune)
    )
    row = next(iter(rows), None)
    return _invite(tuple(row)) if row is not None else None


async def find(conn: Conn, code: str) -> Invite | None:
    rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM invites WHERE code_hash = ?", (hash_code(code),))
    row = next(iter(rows), None)
    return _invite(tuple(row)) if row is not None else None


async def use(conn: Conn, invite_id: int, member_id: int, now: datetime) -> bool:
    """Mark used; False if someone used or revoked it first (the check and the write are one statement)."""
    cursor = await conn.execute(
        "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL",
        (now.isoformat(timespec="seconds"), member_id, invite_id),
    )
    return cursor.rowcount == 1


async def revoke(conn: Conn, commune: str, invite_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE invites SET revoked_at = ? WHERE id = ? AND commune = ? AND used_at IS NULL AND revoked_at IS NULL",
        (now.isoformat(timespec="seconds"), invite_id, commune),
    )
    return cursor.rowcount == 1


async def pending(conn: Conn, commune: str, now: datetime) -> list[Invite]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM invites WHERE commune = ? AND used_at IS NULL AND revoked_at IS NULL"
        " AND expires_at > ? ORDER BY id",
        (commune, now.isoformat(timespec="seconds")),
    )
    return [_invite(tuple(r)) for r in rows]


async def record_failure(conn: Conn, person: str, now: datetime) -> None:
    await conn.execute("INSERT INTO join_failures (person, at) VALUES (?, ?)", (person, now.isoformat()))
    await conn.execute("DELETE FROM join_failures WHERE at < ?", ((now - 2 * LOCKOUT).isoformat(),))


async def locked_out(conn: Conn, person: str, now: datetime) -> bool:
    """True after MAX_FAILURES wrong codes within the last hour."""
    rows = await conn.execute_fetchall(
        "SELECT count(*) FROM join_failures WHERE person = ? AND at > ?",
        (person, (now - LOCKOUT).isoformat()),
    )
    return int(next(iter(rows))[0]) >= MAX_FAILURES
