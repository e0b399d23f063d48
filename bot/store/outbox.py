"""The outbox: every message the bot sends, written in the same transaction as the change behind it.

A row is addressed (channel + chat), keyed (`dedupe_key` is unique, so a re-run writes nothing twice)
and prioritised (replies before notifications before bulk). The sender of each channel delivers
pending rows and records the outcome; the text and any file are dropped once a row is done, so the
table keeps only keys, statuses and platform message ids.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.messages import Attachment, Button, Outbound, Recipient
from bot.store.database import Conn

REPLY, NOTIFY, BULK = 0, 1, 2
KEEP = timedelta(days=35)  # keys outlive a month so a monthly digest is never sent twice


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to store: who gets it, how urgent it is, and what makes it unique."""

    to: Recipient
    message: Outbound
    key: str
    priority: int = REPLY
    edit_id: str | None = None
    ack: str = ""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A stored message as the sender sees it."""

    id: int
    to: Recipient
    priority: int
    message: Outbound
    key: str
    edit_id: str | None = None
    ack: str = ""
    attempts: int = 0
    not_before: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """The outcome of one delivery attempt, to record."""

    id: int
    status: str  # 'sent' | 'unknown' | 'failed' | 'pending' (to retry at not_before)
    attempts: int
    message_id: str | None = None
    error: str | None = None
    not_before: datetime | None = None


def encode(message: Outbound) -> dict[str, Any]:
    """The JSON form of a message (without its file bytes, stored in their own column)."""
    data: dict[str, Any] = {"text": message.text}
    if message.buttons:
        data["buttons"] = [[[b.label, b.data] for b in row] for row in message.buttons]
    if message.edit:
        data["edit"] = True
    if message.toast:
        data["toast"] = message.toast
    if message.ask_contact:
        data["ask_contact"] = message.ask_contact
    if message.close_keyboard:
        data["close_keyboard"] = True
    if message.photo_ref:
        data["photo_ref"] = message.photo_ref
    if message.photo_url:
        data["photo_url"] = message.photo_url
    if message.attachment is not None:
        data["file"] = {"name": message.attachment.name, "image": message.attachment.is_image}
    if message.undeliverable is not None and message.undeliverable.to is not None:
        bounce = message.undeliverable
        data["undeliverable"] = {
            "to": [bounce.to.channel, bounce.to.chat_id] if bounce.to else None,
            "text": bounce.text,
            "key": bounce.key,
        }
    return data


def decode(data: dict[str, Any], to: Recipient, file_data: bytes | None = None) -> Outbound:
    buttons = tuple(tuple(Button(str(label), str(d)) for label, d in row) for row in data.get("buttons", []))
    attachment = None
    info = data.get("file")
    if isinstance(info, dict) and file_data is not None:
        attachment = Attachment(str(info.get("name", "file")), bytes(file_data), bool(info.get("image")))
    bounce = None
    raw = data.get("undeliverable")
    if isinstance(raw, dict) and isinstance(raw.get("to"), list):
        channel, chat = raw["to"]
        bounce = Outbound(str(raw.get("text", "")), to=Recipient(str(channel), str(chat)), key=str(raw.get("key", "")))
    return Outbound(
        str(data.get("text", "")),
        buttons,
        edit=bool(data.get("edit")),
        attachment=attachment,
        toast=data.get("toast"),
        to=to,
        undeliverable=bounce,
        ask_contact=str(data.get("ask_contact") or ""),
        close_keyboard=bool(data.get("close_keyboard")),
        photo_ref=str(data.get("photo_ref") or ""),
        photo_url=str(data.get("photo_url") or ""),
    )


async def add(conn: Conn, messages: Iterable[NewMessage], now: datetime) -> list[OutboxItem]:
    """Store messages; a key already present writes nothing (and is not returned)."""
    stamp = now.isoformat(timespec="seconds")
    stored = []
    for new in messages:
        payload = encode(new.message)
        if new.edit_id:
            payload["edit_id"] = new.edit_id
        if new.ack:
            payload["ack"] = new.ack
        attachment = new.message.attachment
        async with conn.execute(
            "INSERT INTO outbox (channel, chat_id, dedupe_key, priority, payload, file_name, file_data, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            (
                new.to.channel,
                new.to.chat_id,
                new.key,
                new.priority,
                json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                attachment.name if attachment else None,
                attachment.content if attachment else None,
                stamp,
            ),
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            message = new.message if new.message.to == new.to else replace(new.message, to=new.to)
            stored.append(
                OutboxItem(int(row[0]), new.to, new.priority, message, new.key, new.edit_id, new.ack, created_at=now)
            )
    return stored


_COLUMNS = "id, channel, chat_id, priority, payload, file_data, dedupe_key, attempts, not_before, created_at"


def _item(row: Sequence[Any]) -> OutboxItem:
    i, channel, chat, priority, payload, file_data, key, attempts, not_before, created = row
    data = json.loads(str(payload)) if payload else {}
    to = Recipient(str(channel), str(chat))
    return OutboxItem(
        int(i),
        to,
        int(priority),
        decode(data, to, file_data),
        str(key),
        data.get("edit_id"),
        str(data.get("ack", "")),
        int(attempts),
        datetime.fromisoformat(str(not_before)) if not_before else None,
        datetime.fromisoformat(str(created)),
    )


async def pending(
    conn: Conn, channel: str, *, limit: int, skip: set[int] | frozenset[int] = frozenset()
) -> list[OutboxItem]:
    """Pending rows of a channel, most urgent first, leaving out those the sender already holds."""
    rows = await conn.execute_fetchall(
        "SELECT id FROM outbox WHERE channel = ? AND status = 'pending' ORDER BY priority, id LIMIT ?",
        (channel, limit + len(skip)),
    )
    wanted = [int(r[0]) for r in rows if int(r[0]) not in skip][:limit]
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    full = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({marks}) ORDER BY id", wanted)
    return [_item(tuple(r)) for r in full]


async def record(conn: Conn, marks: Sequence[Mark], now: datetime) -> None:
    """Record delivery outcomes. A finished row keeps its key and status, not its text or file."""
    stamp = now.isoformat(timespec="seconds")
    finished = [(m.status, m.attempts, m.message_id, m.error, stamp, m.id) for m in marks if m.status != "pending"]
    retry = [
        (m.attempts, m.error, m.not_before.isoformat(timespec="seconds") if m.not_before else None, m.id)
        for m in marks
        if m.status == "pending"
    ]
    if finished:
        await conn.executemany(
            "UPDATE outbox SET status = ?, attempts = ?, message_id = ?, error = ?, done_at = ?,"
            " payload = '', file_data = NULL WHERE id = ? AND status = 'pending'",
            finished,
        )
    if retry:
        await conn.executemany(
            "UPDATE outbox SET attempts = ?, error = ?, not_before = ? WHERE id = ? AND status = 'pending'", retry
        )


async def status_of(conn: Conn, key: str) -> tuple[str, str | None] | None:
    """(status, platform message id) of the message stored under `key`, if any."""
    rows = await conn.execute_fetchall("SELECT status, message_id FROM outbox WHERE dedupe_key = ?", (key,))
    row = next(iter(rows), None)
    return (str(row[0]), None if row[1] is None else str(row[1])) if row is not None else None


def cancelled_among(conn: sqlite3.Connection, ids: Sequence[int]) -> set[int]:
    """Which of these rows were cancelled (runs on a read connection, in a thread)."""
    gone: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT id FROM outbox WHERE id IN ({marks}) AND status = 'cancelled'", chunk)
        gone.update(int(r[0]) for r in rows)
    return gone


async def cancel_for(conn: Conn, to: Recipient, now: datetime, *, error: str) -> int:
    """Give up every pending message to someone who can no longer be reached."""
    cursor = await conn.execute(
        "UPDATE outbox SET status = 'failed', error = ?, done_at = ?, payload = '', file_data = NULL"
        " WHERE channel = ? AND chat_id = ? AND status = 'pending'",
        (error, now.isoformat(timespec="seconds"), to.channel, to.chat_id),
    )
    return cursor.rowcount


async def prune(conn: Conn, now: datetime) -> int:
    cursor = await conn.execute(
        "DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?",
        ((now - KEEP).isoformat(timespec="seconds"),),
    )
    return cursor.rowcount
