"""Files the bot hands out by link (channels that cannot upload: Zalo): kept until their link expires.

A row holds one file for one recipient. Its id is random (the link's path), never a counter, and the
link is signed too (`bot.links`), so neither guessing nor editing a link reaches another file.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Attachment, Recipient
from bot.store.database import Conn, utc_text


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    content: bytes
    is_image: bool


async def put(conn: Conn, to: Recipient, attachment: Attachment, now: datetime, expires: datetime) -> str:
    """Keep the file for `to` until `expires`; its id."""
    file_id = secrets.token_urlsafe(12)
    await conn.execute(
        "INSERT INTO shared_files (id, channel, chat_id, name, is_image, content, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            file_id,
            to.channel,
            to.chat_id,
            attachment.name[:120],
            int(attachment.is_image),
            attachment.content,
            utc_text(now),
            utc_text(expires),
        ),
    )
    return file_id


def get(raw: sqlite3.Connection, file_id: str, now: datetime) -> StoredFile | None:
    """The file if it exists and has not expired (a read on the read-only connection, in a thread)."""
    row = raw.execute(
        "SELECT name, content, is_image FROM shared_files WHERE id = ? AND expires_at > ?", (file_id, utc_text(now))
    ).fetchone()
    return StoredFile(str(row[0]), bytes(row[1]), bool(row[2])) if row is not None else None


async def prune(conn: Conn, now: datetime) -> int:
    """Forget expired files: their links no longer work anyway."""
    cursor = await conn.execute("DELETE FROM shared_files WHERE expires_at <= ?", (utc_text(now),))
    return cursor.rowcount


async def forget_for(conn: Conn, to: Recipient) -> int:
    """A person's files, when they ask for their data to be deleted."""
    cursor = await conn.execute("DELETE FROM shared_files WHERE channel = ? AND chat_id = ?", (to.channel, to.chat_id))
    return cursor.rowcount


async def signing_key(conn: Conn) -> str:
    """This deployment's key for signing links: made once, kept in the database (so links survive a
    restart and work on every worker), unless FILE_LINK_SECRET sets one."""
    rows = await conn.execute_fetchall("SELECT value FROM app_keys WHERE name = 'file_links'")
    if rows:
        return str(rows[0][0])
    key = secrets.token_hex(32)
    await conn.execute("INSERT INTO app_keys (name, value) VALUES ('file_links', ?)", (key,))
    return key
