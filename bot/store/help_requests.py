"""Help requests: a citizen asks the village's volunteers for help; one of them takes it.

Every change of status is one conditional UPDATE, so two volunteers pressing ✋ at the same moment
cannot both win: the second finds the row no longer open. A closed request keeps its phone number
for 90 days (the volunteer may need to call back), then only the number is deleted; a citizen who
asks to be forgotten leaves an anonymous row behind, so the commune's counts stay right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.messages import Recipient
from bot.store.database import Conn, utc_text

MAX_DETAIL = 200
PHONE_KEPT = timedelta(days=90)
TIMES = ("morning", "afternoon", "evening", "any")
OPEN_STATES = ("open", "taken")


@dataclass(frozen=True, slots=True)
class HelpRequest:
    id: int
    commune: str
    village_id: int
    citizen: Recipient | None  # None once the citizen asked to be forgotten
    topic: str  # a guide id, a topic id, or "other"
    detail: str | None
    time_pref: str
    phone: str | None
    at_home: bool
    status: str  # open | taken | done | cancelled
    routed_to: str  # village | officers
    volunteer_id: int | None
    created_at: str
    taken_at: str | None
    closed_at: str | None
    household_id: int | None = None  # set when a volunteer raised it for a household they visited
    raised_by: int | None = None  # that volunteer

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES


_COLUMNS = (
    "id, commune, village_id, channel, chat_id, topic, detail, time_pref, phone, at_home, status, routed_to,"
    " volunteer_id, created_at, taken_at, closed_at, household_id, raised_by"
)


def _request(row: Sequence[object]) -> HelpRequest:
    (
        i,
        commune,
        village,
        channel,
        chat,
        topic,
        detail,
        time_pref,
        phone,
        home,
        status,
        routed,
        vol,
        at,
        taken,
        closed,
        household,
        raiser,
    ) = row
    citizen = Recipient(str(channel), str(chat)) if channel is not None and chat is not None else None
    return HelpRequest(
        int(str(i)),
        str(commune),
        int(str(village)),
        citizen,
        str(topic),
        None if detail is None else str(detail),
        str(time_pref),
        None if phone is None else str(phone),
        bool(home),
        str(status),
        str(routed),
        None if vol is None else int(str(vol)),
        str(at),
        None if taken is None else str(taken),
        None if closed is None else str(closed),
        None if household is None else int(str(household)),
        None if raiser is None else int(str(raiser)),
    )


def _stamp(now: datetime) -> str:
    return utc_text(now)


async def create(
    conn: Conn,
    *,
    commune: str,
    village_id: int,
    citizen: Recipient | None,
    topic: str,
    detail: str | None,
    time_pref: str,
    phone: str | None,
    at_home: bool,
    routed_to: str,
    now: datetime,
    household_id: int | None = None,
    raised_by: int | None = None,
) -> HelpRequest:
    """A citizen's request, or (citizen None) one a volunteer raised for a household they could not help."""
    if time_pref not in TIMES:
        raise ValueError("unknown time preference")
    async with conn.execute(
        "INSERT INTO help_requests (commune, village_id, channel, chat_id, topic, detail, time_pref, phone, at_home,"
        " routed_to, created_at, household_id, raised_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" RETURNING {_COLUMNS}",
        (
            commune,
            village_id,
            citizen.channel if citizen else None,
            citizen.chat_id if citizen else None,
            topic[:60],
            None if detail is None else detail[:MAX_DETAIL],
            time_pref,
            phone,
            int(at_home),
            routed_to,
            _stamp(now),
            household_id,
            raised_by,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _request(tuple(row))


async def get(conn: Conn, commune: str, request_id: int) -> HelpRequest | None:
    """Only within the commune: ids from button data are never trusted across communes."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE id = ? AND commune = ?", (request_id, commune)
    )
    row = next(iter(rows), None)
    return None if row is None else _request(tuple(row))


async def of_citizen(conn: Conn, citizen: Recipient, limit: int = 10) -> list[HelpRequest]:
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE channel = ? AND chat_id = ? ORDER BY id DESC LIMIT ?",
        (citizen.channel, citizen.chat_id, limit),
    )
    return [_request(tuple(r)) for r in rows]


async def mark_escalated(conn: Conn, request_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE help_requests SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL", (_stamp(now), request_id)
    )


async def waiting_in(conn: Conn, village_ids: Sequence[int], member_id: int) -> list[HelpRequest]:
    """Open requests of these villages, and those this member holds (a volunteer's Saturday reminder)."""
    if not village_ids:
        return []
    marks = ",".join("?" * len(village_ids))
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE village_id IN ({marks})"
        " AND (status = 'open' OR (status = 'taken' AND volunteer_id = ?)) ORDER BY id",
        (*village_ids, member_id),
    )
    return [_request(tuple(r)) for r in rows]


async def overdue(conn: Conn, commune: str, *, untaken_before: datetime, taken_before: datetime) -> list[HelpRequest]:
    """Requests nobody took before `untaken_before`, or taken before `taken_before` and not done."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE commune = ? AND ((status = 'open' AND created_at <= ?)"
        " OR (status = 'taken' AND taken_at <= ?)) ORDER BY id",
        (commune, _stamp(untaken_before), _stamp(taken_before)),
    )
    return [_request(tuple(r)) for r in rows]


async def open_in_commune(conn: Conn, commune: str, limit: int = 20) -> list[HelpRequest]:
    """The commune's requests still open or taken, oldest first (what officers keep an eye on)."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE commune = ? AND status IN ('open', 'taken') ORDER BY id LIMIT ?",
        (commune, limit),
    )
    return [_request(tuple(r)) for r in rows]


async def raised_by(conn: Conn, member_id: int, limit: int = 10) -> list[HelpRequest]:
    """Requests a volunteer raised for households they could not help, latest first."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE raised_by = ? ORDER BY id DESC LIMIT ?", (member_id, limit)
    )
    return [_request(tuple(r)) for r in rows]


async def raised_for(conn: Conn, household_id: int) -> HelpRequest | None:
    """The open request a volunteer already raised for this household, if any (one is enough)."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE household_id = ? AND status IN ('open', 'taken')"
        " ORDER BY id DESC LIMIT 1",
        (household_id,),
    )
    row = next(iter(rows), None)
    return None if row is None else _request(tuple(row))


async def of_volunteer(conn: Conn, member_id: int, limit: int = 10) -> list[HelpRequest]:
    """What a volunteer holds now, oldest first."""
    rows = await conn.execute_fetchall(
        f"SELECT {_COLUMNS} FROM help_requests WHERE volunteer_id = ? AND status = 'taken' ORDER BY id LIMIT ?",
        (member_id, limit),
    )
    return [_request(tuple(r)) for r in rows]


async def take(conn: Conn, request_id: int, member_id: int, now: datetime) -> bool:
    """Give an open request to this volunteer; False when someone else was faster (or it closed)."""
    cursor = await conn.execute(
        "UPDATE help_requests SET status = 'taken', volunteer_id = ?, taken_at = ? WHERE id = ? AND status = 'open'",
        (member_id, _stamp(now), request_id),
    )
    won = cursor.rowcount == 1
    await cursor.close()
    return won


async def hand_back(conn: Conn, request_id: int, member_id: int) -> bool:
    """The volunteer cannot go after all: the request is open again for the others."""
    cursor = await conn.execute(
        "UPDATE help_requests SET status = 'open', volunteer_id = NULL, taken_at = NULL"
        " WHERE id = ? AND status = 'taken' AND volunteer_id = ?",
        (request_id, member_id),
    )
    changed = cursor.rowcount == 1
    await cursor.close()
    return changed


async def finish(conn: Conn, request_id: int, member_id: int | None, now: datetime) -> bool:
    """Done by the volunteer who holds it (or, `member_id` None, by an officer)."""
    cursor = await conn.execute(
        "UPDATE help_requests SET status = 'done', closed_at = ?"
        " WHERE id = ? AND status = 'taken' AND (? IS NULL OR volunteer_id = ?)",
        (_stamp(now), request_id, member_id, member_id),
    )
    changed = cursor.rowcount == 1
    await cursor.close()
    return changed


async def cancel(conn: Conn, request_id: int, citizen: Recipient, now: datetime) -> bool:
    """The citizen withdraws a request that is still open or taken."""
    cursor = await conn.execute(
        "UPDATE help_requests SET status = 'cancelled', closed_at = ?"
        " WHERE id = ? AND channel = ? AND chat_id = ? AND status IN ('open', 'taken')",
        (_stamp(now), request_id, citizen.channel, citizen.chat_id),
    )
    changed = cursor.rowcount == 1
    await cursor.close()
    return changed


async def delete_old_phones(conn: Conn, now: datetime) -> int:
    """Phone numbers are kept 90 days after the request closed, then deleted (the request stays)."""
    cursor = await conn.execute(
        "UPDATE help_requests SET phone = NULL WHERE phone IS NOT NULL AND closed_at IS NOT NULL AND closed_at <= ?",
        (_stamp(now - PHONE_KEPT),),
    )
    count = cursor.rowcount
    await cursor.close()
    return count


async def forget_citizen(conn: Conn, citizen: Recipient, now: datetime) -> int:
    """Anonymise the person's requests: no chat, phone or free text; open ones are cancelled."""
    cursor = await conn.execute(
        "UPDATE help_requests SET channel = NULL, chat_id = NULL, phone = NULL, detail = NULL,"
        " status = CASE WHEN status IN ('open', 'taken') THEN 'cancelled' ELSE status END,"
        " closed_at = COALESCE(closed_at, ?)"
        " WHERE channel = ? AND chat_id = ?",
        (_stamp(now), citizen.channel, citizen.chat_id),
    )
    count = cursor.rowcount
    await cursor.close()
    return count
