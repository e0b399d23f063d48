"""Conversation state, one row per (channel, chat): the bot forgets nothing across a restart."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.store.database import Conn

State = dict[str, Any]


async def load(conn: Conn, channel: str, chat_id: str) -> State:
    rows = await conn.execute_fetchall(
        "SELECT state FROM sessions WHERE channel = ? AND chat_id = ?", (channel, chat_id)
    )
    row = next(iter(rows), None)
    if row is None:
        return {}
    try:
        state = json.loads(row[0])
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


async def save(conn: Conn, channel: str, chat_id: str, state: State, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO sessions (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel, chat_id)"
        " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        (channel, chat_id, json.dumps(state, ensure_ascii=False), now.isoformat(timespec="seconds")),
    )
