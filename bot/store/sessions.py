"""Conversation state, one row per (channel, chat): the bot forgets nothing across a restart.

The row also says when the person last wrote (a later paid channel, Zalo OA, charges for messages sent
more than 48 hours after that) and whether they blocked the bot (then nothing more is sent to them
until they write again).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.messages import Recipient
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


async def save(conn: Conn, channel: str, chat_id: str, state: State, now: datetime, *, inbound: bool = True) -> None:
    """Store the state; `inbound` says the person just wrote (so they are reachable again)."""
    stamp = now.isoformat(timespec="seconds")
    text = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    if inbound:
        await conn.execute(
            "INSERT INTO sessions (channel, chat_id, state, updated_at, last_inbound_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,"
            " last_inbound_at = excluded.last_inbound_at, unreachable_at = NULL",
            (channel, chat_id, text, stamp, stamp),
        )
    else:
        await conn.execute(
            "INSERT INTO sessions (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel, chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (channel, chat_id, text, stamp),
        )


async def mark_unreachable(conn: Conn, who: Recipient, now: datetime) -> None:
    """The platform refused a message because the person blocked the bot (or left)."""
    await conn.execute(
        "INSERT INTO sessions (channel, chat_id, state, updated_at, unreachable_at) VALUES (?, ?, '{}', ?, ?)"
        " ON CONFLICT (channel, chat_id) DO UPDATE SET unreachable_at = excluded.unreachable_at",
        (who.channel, who.chat_id, now.isoformat(timespec="seconds"), now.isoformat(timespec="seconds")),
    )


async def unreachable(conn: Conn, who: Recipient) -> bool:
    rows = await conn.execute_fetchall(
        "SELECT unreachable_at FROM sessions WHERE channel = ? AND chat_id = ?", (who.channel, who.chat_id)
    )
    row = next(iter(rows), None)
    return row is not None and row[0] is not None
