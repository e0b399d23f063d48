"""Background tasks: heavy work (an XLSX export, a report) a turn asks for and a worker does later.

The turn only writes a row and answers "đang chuẩn bị"; the worker reads on a read-only connection in
a thread and writes the file to the outbox. A task that was pending when the process stopped runs
again on start-up; its message key makes sure the file is still sent once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.messages import Recipient
from bot.store.database import Conn

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    kind: str
    params: dict[str, Any]
    commune: str
    actor: str
    reply_to: Recipient | None
    attempts: int


async def add(
    conn: Conn,
    *,
    kind: str,
    commune: str,
    actor: str,
    reply_to: Recipient | None,
    now: datetime,
    params: dict[str, Any] | None = None,
) -> int:
    async with conn.execute(
        "INSERT INTO tasks (kind, params, commune, actor, channel, chat_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            kind,
            json.dumps(params or {}, ensure_ascii=False),
            commune,
            actor,
            reply_to.channel if reply_to else None,
            reply_to.chat_id if reply_to else None,
            now.isoformat(timespec="seconds"),
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def pending(conn: Conn, limit: int = 10) -> list[Task]:
    rows = await conn.execute_fetchall(
        "SELECT id, kind, params, commune, actor, channel, chat_id, attempts FROM tasks"
        " WHERE status = 'pending' ORDER BY id LIMIT ?",
        (limit,),
    )
    return [
        Task(
            int(r[0]),
            str(r[1]),
            json.loads(str(r[2])),
            str(r[3]),
            str(r[4]),
            Recipient(str(r[5]), str(r[6])) if r[5] is not None else None,
            int(r[7]),
        )
        for r in rows
    ]


async def started(conn: Conn, task_id: int) -> None:
    """Count an attempt before running, so a task that crashes the process is not run for ever."""
    await conn.execute("UPDATE tasks SET attempts = attempts + 1 WHERE id = ?", (task_id,))


async def finish(conn: Conn, task_id: int, now: datetime, *, failed: bool = False) -> bool:
    cursor = await conn.execute(
        "UPDATE tasks SET status = ?, done_at = ? WHERE id = ? AND status = 'pending'",
        ("failed" if failed else "done", now.isoformat(timespec="seconds"), task_id),
    )
    return cursor.rowcount == 1
