"""📢 Officers send announcements to the commune's subscribers (🔔): write, choose who, send now or at a
time, confirm; then follow the progress ("Đã gửi 1.234/5.000") and cancel if need be.

Nothing is sent from the turn: the announcement is stored, and the scheduler expands it into the outbox
in batches when its time comes (bot/store/announcements.py); the sender keeps to the platform's limits.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import kept_state, menu_answer, noted, reply
from bot.privacy import looks_like_secret
from bot.store import announcements, subscriptions, villages
from bot.store.announcements import MAX_CAPTION, MAX_TEXT
from bot.text import thousands

router = Router()
DRAFT = "ann"
FURTHEST = timedelta(days=30)
_WHEN = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}))?\s+(\d{1,2})[:hg](\d{2})\s*$")
MORNING = time(7, 30)


def _draft(turn: Turn) -> dict[str, Any] | None:
    draft = turn.state.get(DRAFT)
    return draft if isinstance(draft, dict) else None


def _state(turn: Turn, draft: dict[str, Any], awaited: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {**kept_state(turn), DRAFT: draft}
    if awaited:
        state["await"] = awaited
    return state


@router.command("thongbao_gui")
@router.button("ao")
@requires("announce.send")
async def start(turn: Turn) -> Answer:
    """Write the text; recent announcements, with their progress, are listed under it."""
    t = turn.t
    lines, actions = await _recent(turn)
    text = t("announce_write", limit=MAX_TEXT) + ("\n\n" + "\n".join(lines) if lines else "")
    return reply(turn, text, *actions, state={**kept_state(turn), "await": "announce_text"})


async def _recent(turn: Turn) -> tuple[list[str], list[Any]]:
    lines, actions = [], []
    tz = ZoneInfo(turn.services.settings.timezone)
    for item in await announcements.recent(turn.conn, turn.commune):
        done = await announcements.progress(turn.conn, item)
        when = datetime.fromisoformat(item.send_at).astimezone(tz).strftime("%H:%M %d/%m")
        status = turn.t(
            f"announce_status_{item.status}", sent=thousands(done.sent), total=thousands(done.total), when=when
        )
        lines.append(f"#{item.id} · {item.text[:40]}… — {status}")
        if item.status != "cancelled" and (item.status == "scheduled" or done.pending):
            actions.append(button(turn.t("btn_announce_cancel", id=item.id), f"ac:{item.id}"))
    return ([turn.t("announce_recent"), *lines] if lines else []), actions


@router.text_for("announce_text")
@requires("announce.send")
async def text_written(turn: Turn) -> Answer:
    photo = turn.state.get("photo")
    text = turn.inbound.text.strip()
    limit = MAX_CAPTION if photo else MAX_TEXT
    if not text or len(text) > limit:
        return reply(turn, turn.t("announce_too_long", limit=limit, count=len(text)), state=turn.state)
    if looks_like_secret(text):
        return reply(turn, turn.t("announce_secret"), state=turn.state)
    return await _ask_audience(turn, {"text": text, **({"photo": photo} if isinstance(photo, list) else {})})


@router.photo_for("announce_text")
@requires("announce.send")
async def photo_sent(turn: Turn) -> Answer:
    """A photo for the announcement: its caption is the text, or the text is asked for next."""
    photo = [turn.inbound.channel, turn.inbound.photo_ref]
    if turn.inbound.text.strip():
        return await text_written(replace(turn, state={**turn.state, "photo": photo}))
    state = {**turn.state, "photo": photo}
    return reply(turn, turn.t("announce_photo_text", limit=MAX_CAPTION), state=state)


async def _ask_audience(turn: Turn, draft: dict[str, Any]) -> Answer:
    t = turn.t
    counts = await subscriptions.counts(turn.conn, turn.commune)
    everyone = sum(counts.values())
    choices = [button(t("btn_announce_all", count=thousands(everyone)), "aa:all")]
    for village in (await villages.for_commune(turn.conn, turn.commune))[:40]:
        count = counts.get(None, 0) + counts.get(village.id, 0)  # commune-wide subscribers hear every village
        label = t("btn_announce_village", village=village.name, count=thousands(count))
        choices.append(button(label[:60], f"aa:{village.id}"))
    # Awaiting "the audience": a second photo of an album, or typed text, lands here, not on the menu.
    return reply(turn, t("announce_audience"), *choices, state=_state(turn, draft, "announce_audience"))


@router.text_for("announce_audience")
@router.photo_for("announce_audience")
@requires("announce.send")
async def audience_again(turn: Turn) -> Answer:
    """Something sent where a choice of audience was expected: one photo only; the draft is kept."""
    draft = _draft(turn)
    if draft is None:
        return menu_answer(turn, turn.t("announce_gone"))
    note = turn.t("announce_one_photo" if turn.inbound.photo_ref else "announce_pick_audience")
    return noted(await _ask_audience(turn, draft), note)


@router.button("aa")
@requires("announce.send")
async def audience_chosen(turn: Turn) -> Answer:
    draft = _draft(turn)
    args = turn.args()
    if draft is None or len(args) != 1:
        return menu_answer(turn, turn.t("announce_gone"))
    if args[0] == "all":
        draft = {**draft, "village": None}
    else:
        village_id = turn.int_arg()
        if village_id is None or await villages.get(turn.conn, turn.commune, village_id) is None:
            return menu_answer(turn, turn.t("stale_button"))
        draft = {**draft, "village": village_id}
    t = turn.t
    return reply(
        turn,
        t("announce_when"),
        button(t("btn_announce_now"), "aw:now"),
        button(t("btn_announce_morning"), "aw:morning"),
        state=_state(turn, draft, "announce_time"),
    )


def _tomorrow_morning(turn: Turn) -> datetime:
    tz = ZoneInfo(turn.services.settings.timezone)
    day = turn.now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, MORNING, tz)


@router.button("aw")
@requires("announce.send")
async def when_chosen(turn: Turn) -> Answer:
    draft = _draft(turn)
    args = turn.args()
    if draft is None or "village" not in draft or args not in (["now"], ["morning"]):
        return menu_answer(turn, turn.t("announce_gone"))
    at = turn.now if args == ["now"] else _tomorrow_morning(turn)
    return await _confirm(turn, {**draft, "at": at.isoformat(timespec="seconds")})


@router.text_for("announce_time")
@requires("announce.send")
async def time_typed(turn: Turn) -> Answer:
    """A time typed as "25/12 07:30" (or "25/12/2026 7h30"), in the commune's time zone."""
    draft = _draft(turn)
    if draft is None or "village" not in draft:
        return menu_answer(turn, turn.t("announce_gone"))
    at = _parse_when(turn.inbound.text, turn.now, turn.services.settings.timezone)
    if at is None or not turn.now < at <= turn.now + FURTHEST:
        return reply(turn, turn.t("announce_bad_time"), state=turn.state)
    return await _confirm(turn, {**draft, "at": at.isoformat(timespec="seconds")})


def _parse_when(text: str, now: datetime, timezone: str) -> datetime | None:
    match = _WHEN.match(text)
    if match is None:
        return None
    day, month, year, hour, minute = (int(x) if x else None for x in match.groups())
    tz = ZoneInfo(timezone)
    assert day is not None and month is not None and hour is not None and minute is not None
    try:
        at = datetime(year or now.astimezone(tz).year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None
    if year is None and at < now:  # "05/01" typed in December means next January
        at = at.replace(year=at.year + 1)
    return at


async def _confirm(turn: Turn, draft: dict[str, Any]) -> Answer:
    t = turn.t
    village_id = draft.get("village")
    village = await villages.get(turn.conn, turn.commune, village_id) if isinstance(village_id, int) else None
    counts = await subscriptions.counts(turn.conn, turn.commune)
    people = counts.get(None, 0) + counts.get(village.id, 0) if village else sum(counts.values())
    at = datetime.fromisoformat(str(draft["at"]))
    local = at.astimezone(ZoneInfo(turn.services.settings.timezone))
    when = t("announce_now") if at <= turn.now else local.strftime("%H:%M %d/%m/%Y")
    text = t(
        "announce_confirm",
        text=draft["text"] + ("\n🖼 (kèm 1 ảnh)" if draft.get("photo") else ""),
        who=village.name if village else t("announce_everyone"),
        count=thousands(people),
        when=when,
    )
    return reply(
        turn,
        text,
        button(t("btn_announce_send"), "ay"),
        button(t("btn_cancel"), "ax"),
        state=_state(turn, draft),
    )


@router.button("ay")
@requires("announce.send")
async def send(turn: Turn) -> Answer:
    """Stored, to go out now or at its time; a second tap finds no draft and says it was stored."""
    draft, member = _draft(turn), turn.member
    assert member is not None
    if draft is None or "at" not in draft:
        return menu_answer(turn, turn.t("announce_gone"))
    at = max(datetime.fromisoformat(str(draft["at"])), turn.now)
    village = draft.get("village")
    item = await announcements.create(
        turn.conn,
        commune=turn.commune,
        text=str(draft["text"]),
        village_id=village if isinstance(village, int) else None,
        send_at=at,
        member_id=member.id,
        now=turn.now,
        photo=_photo(draft),
    )
    await turn.audit("announce.create", f"announcement:{item.id}", village=item.village_id)
    turn.services.signals.emit("schedule")  # "now" goes out without waiting for the next minute's tick
    return reply(
        turn,
        turn.t("announce_stored", id=item.id),
        button(turn.t("btn_announce_progress"), "ao"),
        state=kept_state(turn),
    )


def _photo(draft: dict[str, Any]) -> tuple[str, str] | None:
    photo = draft.get("photo")
    if isinstance(photo, list) and len(photo) == 2 and all(isinstance(p, str) and p for p in photo):
        return str(photo[0]), str(photo[1])
    return None


@router.button("ax")
@requires("announce.send")
async def drop_draft(turn: Turn) -> Answer:
    return menu_answer(turn, turn.t("announce_dropped"))


@router.button("ac")
@requires("announce.send")
async def cancel(turn: Turn) -> Answer:
    """Call an announcement off: what has not gone yet stays unsent."""
    ident = turn.int_arg()
    item = await announcements.get(turn.conn, turn.commune, ident) if ident is not None else None
    if item is None:
        return menu_answer(turn, turn.t("stale_button"))
    stopped = await announcements.cancel(turn.conn, item.id, turn.now)
    if stopped is None:
        key = "announce_already_cancelled" if item.status == "cancelled" else "announce_all_sent"
        return menu_answer(turn, turn.t(key, id=item.id))
    await turn.audit("announce.cancel", f"announcement:{item.id}", stopped=stopped)
    turn.services.signals.emit("outbox_cancelled")
    return menu_answer(turn, turn.t("announce_cancelled", id=item.id, count=thousands(stopped)))
