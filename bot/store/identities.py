"""One person, several chats: a volunteer or officer on Telegram and on Zalo is one member.

A member row holds where notifications go (its channel and chat); `member_identities` holds the other
chats that act as the same member. Linking is done with a one-time code made on the chat the person
already uses and typed on the new one: 8 characters, 15 minutes, stored only as a hash, and wrong
guesses count against the same lockout as invite codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.messages import Recipient
from bot.store.database import Conn, utc_text
from bot.store.invites import hash_code, new_code
from bot.store.members import Member

TTL = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LinkCode:
    id: int
    member_id: int
    expires_at: datetime
    used_at: str | None


async def create_code(conn: Conn, member_id: int, now: datetime) -> tuple[str, datetime]:
    """A fresh code for this member (an earlier unused one stops working); the code and its expiry."""
    await conn.execute(
        "UPDATE link_codes SET used_at = ? WHERE member_id = ? AND used_at IS NULL", (utc_text(now), member_id)
    )
    code, expires = new_code(), now + TTL
    await conn.execute(
        "INSERT INTO link_codes (member_id, code_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (member_id, hash_code(code), utc_text(now), utc_text(expires)),
    )
    return code, expires


async def find_code(conn: Conn, code: str) -> LinkCode | None:
    rows = await conn.execute_fetchall(
        "SELECT id, member_id, expires_at, used_at FROM link_codes WHERE code_hash = ?", (hash_code(code),)
    )
    row = next(iter(rows), None)
    if row is None:
        return None
    return LinkCode(int(row[0]), int(row[1]), datetime.fromisoformat(str(row[2])), row[3])


async def use_code(conn: Conn, code_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE link_codes SET used_at = ? WHERE id = ? AND used_at IS NULL", (utc_text(now), code_id)
    )
    return cursor.rowcount == 1


async def link(conn: Conn, member: Member, new: Recipient, now: datetime) -> None:
    """Make `new` act as `member` and receive its notifications; the chat used so far keeps working."""
    await conn.execute(
        "INSERT INTO member_identities (channel, chat_id, member_id, linked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel, chat_id) DO UPDATE SET member_id = excluded.member_id",
        (member.channel, member.chat_id, member.id, utc_text(now)),
    )
    await conn.execute("DELETE FROM member_identities WHERE channel = ? AND chat_id = ?", (new.channel, new.chat_id))
    await conn.execute(
        "UPDATE members SET channel = ?, chat_id = ? WHERE id = ?", (new.channel, new.chat_id, member.id)
    )


async def add(conn: Conn, member_id: int, chat: Recipient, now: datetime) -> None:
    """Let `chat` act as the member, notifications staying where they go (the demo's Zalo side)."""
    await conn.execute(
        "INSERT INTO member_identities (channel, chat_id, member_id, linked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (channel, chat_id) DO NOTHING",
        (chat.channel, chat.chat_id, member_id, utc_text(now)),
    )


async def forget_chat(conn: Conn, chat: Recipient) -> None:
    """This chat no longer acts as any member (its person asked for their data to be deleted)."""
    await conn.execute("DELETE FROM member_identities WHERE channel = ? AND chat_id = ?", (chat.channel, chat.chat_id))


async def others_of(conn: Conn, member_id: int) -> list[Recipient]:
    """The member's chats besides the one notifications go to."""
    rows = await conn.execute_fetchall(
        "SELECT channel, chat_id FROM member_identities WHERE member_id = ? ORDER BY channel, chat_id", (member_id,)
    )
    return [Recipient(str(r[0]), str(r[1])) for r in rows]
