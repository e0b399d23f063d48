"""Who created, changed, imported, exported or deleted what, and when. Details carry ids and counts,
never personal data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.store.database import Conn


async def record(
    conn: Conn, *, commune: str, actor: str, action: str, object: str, now: datetime, **detail: Any
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, commune, actor, action, object, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (
            now.isoformat(timespec="seconds"),
            commune,
            actor,
            action,
            object,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
        ),
    )


async def entries(conn: Conn, commune: str) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    rows = await conn.execute_fetchall(
        "SELECT at, actor, action, object, detail FROM audit_log WHERE commune = ? ORDER BY id", (commune,)
    )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), json.loads(str(r[4]))) for r in rows]


async def forget_actor(conn: Conn, actor: str) -> None:
    """A citizen asked to be forgotten: their entries stay (the counts), without who they were."""
    await conn.execute("UPDATE audit_log SET actor = 'forgotten' WHERE actor = ?", (actor,))
