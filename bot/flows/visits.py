"""📝 Logging a household visit in a few taps: find (or add) the household, tick what the trained
person can now do, optionally name them and add a note, confirm.

The draft lives in the session until ✅ Xác nhận. Every button of a draft carries the draft's key, and
the visit is stored under that key once, so a double tap or a re-delivered update records one visit,
and a button on an older copy of a screen (sent twice after a crash, or scrolled back to) says what
became of that draft instead of acting on another one. A volunteer may correct or withdraw their own
visit for 24 hours.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.coverage import ALL_SKILLS, SKILL_LABELS, describe
from bot.flows.base import Answer, Handler, Router, Turn, button, requires
from bot.flows.common import menu_answer, reply, tick
from bot.privacy import has_id_number
from bot.services.coverage import progress_line, refresh_household, week_start
from bot.store import households, villages, visits
from bot.store.households import Household
from bot.text import fold

router = Router()
CORRECTION_WINDOW = timedelta(hours=24)
MAX_NAME = 60
MAX_HEAD_NAME = 100
MAX_NOTE = 200


async def scope(turn: Turn) -> list[int]:
    """Villages the person may act in: a volunteer's own; every village of an officer's commune."""
    if turn.member is None:
        return []
    if turn.member.role == "volunteer":
        return list(turn.member.village_ids)
    return [v.id for v in await villages.for_commune(turn.conn, turn.commune)]


async def _household_in_scope(turn: Turn, household_id: int) -> Household | None:
    household = await households.get(turn.conn, turn.commune, household_id)
    if household is None or household.village_id not in await scope(turn):
        return None
    return household


def _draft(turn: Turn) -> dict[str, Any] | None:
    draft = turn.state.get("visit")
    return draft if isinstance(draft, dict) and isinstance(draft.get("key"), str) else None


DraftStep = Callable[[Turn, dict[str, Any]], Awaitable[Answer]]


def with_draft(step: DraftStep) -> Handler:
    """Run a step of the open draft whose key the button carries (typed text needs no key).

    A button of another draft — an older copy of a screen — changes nothing and says what became of it.
    """

    async def handler(turn: Turn) -> Answer:
        draft = _draft(turn)
        if turn.inbound.kind == "button":
            args = turn.args()
            if draft is None or not args or args[0] != draft["key"]:
                return await _other_draft(turn, args[0] if args else "", draft)
        elif draft is None:
            return menu_answer(turn, turn.t("visit_no_draft"))
        return await step(turn, draft)

    handler.__doc__, handler.__name__ = step.__doc__, step.__name__
    return handler


async def _other_draft(turn: Turn, key: str, draft: dict[str, Any] | None) -> Answer:
    """A button of a draft that is not the open one: saved already, or ended, or another one is open."""
    member = turn.member
    saved = await visits.household_for_key(turn.conn, f"{member.id}:{key}") if member and key else None
    keep = turn.state if draft is not None else None  # never drop the draft being filled in now
    if saved is not None:
        household = await households.get(turn.conn, turn.commune, saved)
        progress = await _village_progress(turn, household.village_id) if household else ""
        return menu_answer(turn, f"{turn.t('visit_already_saved')}\n{progress}", state=keep)
    if draft is not None:
        return await _resume(turn, draft, turn.t("visit_other_draft"))
    return menu_answer(turn, turn.t("visit_no_draft"))


async def _resume(turn: Turn, draft: dict[str, Any], note: str) -> Answer:
    """The open draft's current screen again, under a short note (no dead end after an odd tap)."""
    if "note" in draft:
        answer = _summary(turn, draft)
    elif "person" in draft:
        answer = _ask_note(turn, draft)
    elif "people" in draft:
        answer = _ask_person(turn, draft, draft["people"])
    else:
        return _skills_screen(turn, draft, note=note)
    first, *rest = answer.messages
    return Answer([replace(first, text=f"{note}\n\n{first.text}"), *rest], answer.state)


def _int_arg(turn: Turn) -> int | None:
    return turn.int_arg()


def _index_arg(turn: Turn) -> int | None:
    """The index in a draft button's data ("vt:<key>:2" → 2)."""
    return turn.int_arg(2)


def _clean_name(text: str, limit: int) -> str | None:
    name = " ".join(text.split())
    if not name or len(name) > limit or not any(ch.isalpha() for ch in name) or has_id_number(name):
        return None
    return name


async def _village_progress(turn: Turn, village_id: int) -> str:
    since = week_start(turn.now, turn.services.settings.timezone)
    [line] = await households.progress(turn.conn, [village_id], since)
    return progress_line(line)


# ---- 1. find the household ----------------------------------------------------------------------


@router.command("visit")
@router.button("vs")
@requires("visit.log")
async def start(turn: Turn) -> Answer:
    """Ask for a household code or the head's name."""
    if not await scope(turn):
        return menu_answer(turn, turn.t("visit_no_villages"))
    t = turn.t
    return reply(
        turn,
        t("visit_find"),
        button(t("btn_new_household"), "vn"),
        button(t("btn_recent_visits"), "vr"),
        state={"await": "visit_find"},
    )


@router.text_for("visit_find")
@requires("visit.log")
async def find(turn: Turn) -> Answer:
    """Households matching the typed code or name, only from the person's own villages."""
    query = " ".join(turn.inbound.text.split())[:60]
    if has_id_number(query):
        return reply(turn, turn.t("visit_secret"), state=turn.state)
    found = await households.search(turn.conn, await scope(turn), query) if fold(query) else []
    t = turn.t
    extra = (button(t("btn_new_household"), "vn"),)
    if not found:
        return reply(turn, t("visit_not_found", query=query), *extra, state={"await": "visit_find"})
    names = {v.id: v.name for v in await villages.for_commune(turn.conn, turn.commune)}
    items = [button(f"{h.code} · {h.head_name} ({names.get(h.village_id, '')})"[:60], f"vh:{h.id}") for h in found]
    return reply(turn, t("visit_found", count=len(found)), *items, *extra, state={"await": "visit_find"})


@router.button("vh")
@requires("visit.log")
async def pick(turn: Turn) -> Answer:
    """A household was chosen (from search or the to-do list): start a draft."""
    household_id = _int_arg(turn)
    household = await _household_in_scope(turn, household_id) if household_id is not None else None
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    draft = {
        "key": secrets.token_hex(6),
        "hh": household.id,
        "label": f"{household.code} · {household.head_name}",
        "skills": 0,
    }
    return _skills_screen(turn, draft, edit=True)


# ---- 1b. a household missing from the roster ---------------------------------------------------


@router.button("vn")
@requires("household.add")
async def new_household(turn: Turn) -> Answer:
    """Which village the new household is in (skipped when the volunteer has only one)."""
    mine = await scope(turn)
    if len(mine) == 1:
        return _ask_head_name(turn, mine[0])
    names = {v.id: v.name for v in await villages.for_commune(turn.conn, turn.commune)}
    items = [button(names.get(v, str(v))[:60], f"vnv:{v}") for v in mine[:40]]
    return reply(turn, turn.t("visit_pick_village"), *items, edit=True, width=2, state={})


def _ask_head_name(turn: Turn, village_id: int) -> Answer:
    return reply(turn, turn.t("visit_new_name"), state={"await": "visit_new_name", "new_village": village_id})


@router.button("vnv")
@requires("household.add")
async def new_household_village(turn: Turn) -> Answer:
    village_id = _int_arg(turn)
    if village_id is None or village_id not in await scope(turn):
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    return _ask_head_name(turn, village_id)


@router.text_for("visit_new_name")
@requires("household.add")
async def new_household_name(turn: Turn) -> Answer:
    village_id = turn.state.get("new_village")
    if not isinstance(village_id, int) or village_id not in await scope(turn):
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    name = _clean_name(turn.inbound.text, MAX_HEAD_NAME)
    if name is None:
        return reply(turn, turn.t("visit_bad_name", limit=MAX_HEAD_NAME), state=turn.state)
    draft = {
        "key": secrets.token_hex(6),
        "hh": None,
        "new": {"village": village_id, "name": name},
        "label": f"{name} (hộ mới)",
        "skills": 0,
    }
    return _skills_screen(turn, draft)


# ---- 2. what can the trained person do now --------------------------------------------------------


def _skills_screen(turn: Turn, draft: dict[str, Any], *, edit: bool = False, note: str | None = None) -> Answer:
    t = turn.t
    skills = int(draft.get("skills", 0))
    key = draft["key"]
    toggles = [button(tick(SKILL_LABELS[s], bool(skills & s)), f"vt:{key}:{i}") for i, s in enumerate(ALL_SKILLS)]
    text = t("visit_skills", household=draft["label"])
    if note:
        text = f"{note}\n\n{text}"
    return reply(
        turn,
        text,
        *toggles,
        button(t("btn_next"), f"vk:{key}"),
        button(t("btn_cancel"), f"vq:{key}"),
        edit=edit,
        state={"visit": draft},
    )


@router.button("vt")
@requires("visit.log")
@with_draft
async def toggle(turn: Turn, draft: dict[str, Any]) -> Answer:
    index = _index_arg(turn)
    if index is None or index >= len(ALL_SKILLS):
        return _skills_screen(turn, draft, edit=True, note=turn.t("stale_button"))
    draft["skills"] = int(draft.get("skills", 0)) ^ int(ALL_SKILLS[index])
    return _skills_screen(turn, draft, edit=True)


@router.button("vk")
@requires("visit.log")
@with_draft
async def skills_done(turn: Turn, draft: dict[str, Any]) -> Answer:
    if not draft.get("skills"):
        return _skills_screen(turn, draft, edit=True, note=turn.t("visit_need_skill"))
    # Offer the people trained on earlier visits, so the same person is recorded the same way and
    # the "one person has every skill" rule can see it (bot/coverage.py).
    people = await visits.people_of(turn.conn, draft["hh"]) if isinstance(draft.get("hh"), int) else []
    draft["people"] = people
    return _ask_person(turn, draft, people, edit=True)


def _ask_person(turn: Turn, draft: dict[str, Any], people: list[str], *, edit: bool = False) -> Answer:
    key = draft["key"]
    earlier = [button(f"👤 {name}"[:60], f"vpp:{key}:{i}") for i, name in enumerate(people)]
    return reply(
        turn,
        turn.t("visit_person"),
        *earlier,
        button(turn.t("btn_skip"), f"vp:{key}"),
        edit=edit,
        state={"visit": draft, "await": "visit_person"},
    )


@router.button("vpp")
@requires("visit.log")
@with_draft
async def earlier_person(turn: Turn, draft: dict[str, Any]) -> Answer:
    """The same person as on an earlier visit of this household."""
    index, people = _index_arg(turn), draft.get("people")
    if index is None or not isinstance(people, list) or index >= len(people):
        return menu_answer(turn, turn.t("stale_button"), state=turn.state)
    draft["person"] = str(people[index])
    return _ask_note(turn, draft)


# ---- 3. optional name and note -------------------------------------------------------------------


@router.text_for("visit_person")
@requires("visit.log")
@with_draft
async def person(turn: Turn, draft: dict[str, Any]) -> Answer:
    name = _clean_name(turn.inbound.text, MAX_NAME)
    if name is None:
        key = "visit_secret" if has_id_number(turn.inbound.text) else "visit_bad_name"
        skip = button(turn.t("btn_skip"), f"vp:{draft['key']}")
        return reply(turn, turn.t(key, limit=MAX_NAME), skip, state=turn.state)
    draft["person"] = name
    return _ask_note(turn, draft)


@router.button("vp")
@requires("visit.log")
@with_draft
async def skip_person(turn: Turn, draft: dict[str, Any]) -> Answer:
    draft["person"] = None
    return _ask_note(turn, draft)


def _ask_note(turn: Turn, draft: dict[str, Any]) -> Answer:
    return reply(
        turn,
        turn.t("visit_note", limit=MAX_NOTE),
        button(turn.t("btn_skip"), f"vo:{draft['key']}"),
        state={"visit": draft, "await": "visit_note"},
    )


@router.text_for("visit_note")
@requires("visit.log")
@with_draft
async def note(turn: Turn, draft: dict[str, Any]) -> Answer:
    text = " ".join(turn.inbound.text.split())
    skip = button(turn.t("btn_skip"), f"vo:{draft['key']}")
    if has_id_number(text):
        return reply(turn, turn.t("visit_secret"), skip, state=turn.state)
    if len(text) > MAX_NOTE:
        return reply(turn, turn.t("visit_note", limit=MAX_NOTE), skip, state=turn.state)
    draft["note"] = text or None
    return _summary(turn, draft)


@router.button("vo")
@requires("visit.log")
@with_draft
async def skip_note(turn: Turn, draft: dict[str, Any]) -> Answer:
    draft["note"] = None
    return _summary(turn, draft)


def _summary(turn: Turn, draft: dict[str, Any]) -> Answer:
    t = turn.t
    extra = "\n".join(
        x
        for x in (
            f"👤 {draft['person']}" if draft.get("person") else "",
            f"📝 {draft['note']}" if draft.get("note") else "",
        )
        if x
    )
    text = t("visit_summary", household=draft["label"], skills=describe(int(draft["skills"])), extra=extra)
    return reply(
        turn,
        text,
        button(t("btn_confirm"), f"vc:{draft['key']}"),
        button(t("btn_cancel"), f"vq:{draft['key']}"),
        state={"visit": draft},
    )


# ---- 4. confirm, cancel, correct, withdraw -------------------------------------------------------


@router.button("vc")
@requires("visit.log")
async def confirm(turn: Turn) -> Answer:
    """Save once. A second tap (or a re-delivery) finds the saved visit instead of a second one."""
    args, draft, member = turn.args(), _draft(turn), turn.member
    assert member is not None  # guaranteed by @requires
    if draft is None or args != [draft["key"]]:
        key = args[0] if len(args) == 1 else ""
        saved = await visits.household_for_key(turn.conn, f"{member.id}:{key}")
        # An old ✅ (a double tap, or from an earlier visit) must not end the draft now being filled in.
        keep = turn.state if draft is not None else None
        if saved is None:
            return menu_answer(turn, turn.t("visit_no_draft"), state=keep)
        household = await households.get(turn.conn, turn.commune, saved)
        progress = await _village_progress(turn, household.village_id) if household else ""
        return menu_answer(turn, f"{turn.t('visit_already_saved')}\n{progress}", state=keep)
    person_name = draft.get("person")
    person_key = fold(person_name) if isinstance(person_name, str) else ""
    note_text = draft.get("note") if isinstance(draft.get("note"), str) else None
    if isinstance(draft.get("edit"), int):
        return await _save_correction(turn, draft, person_name, person_key, note_text)
    household = await _draft_household(turn, draft)
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    visit, created = await visits.record(
        turn.conn,
        request_key=f"{member.id}:{draft['key']}",
        household_id=household.id,
        member_id=member.id,
        skills=int(draft["skills"]),
        person=person_name if isinstance(person_name, str) else None,
        person_key=person_key,
        note=note_text,
        now=turn.now,
    )
    if created:
        await refresh_household(turn.conn, household.id, turn.now)
        await turn.audit("create", f"visit:{visit.id}", household=household.id)
    return await _saved_answer(turn, household, visit.id)


async def _draft_household(turn: Turn, draft: dict[str, Any]) -> Household | None:
    if isinstance(draft.get("hh"), int):
        return await _household_in_scope(turn, draft["hh"])
    new = draft.get("new")
    member = turn.member
    if not isinstance(new, dict) or member is None or new.get("village") not in await scope(turn):
        return None
    household = await households.add_in_field(
        turn.conn,
        commune=turn.commune,
        village_id=int(new["village"]),
        head_name=str(new["name"]),
        member_id=member.id,
        now=turn.now,
    )
    await turn.audit("create", f"household:{household.id}", in_field=True)
    return household


async def _saved_answer(turn: Turn, household: Household, visit_id: int) -> Answer:
    t = turn.t
    progress = await _village_progress(turn, household.village_id)
    text = t("visit_saved", household=f"{household.code} · {household.head_name}", progress=progress)
    return reply(
        turn,
        text,
        button(t("btn_another_visit"), "vs"),
        button(t("btn_edit_visit"), f"ve:{visit_id}"),
        button(t("btn_withdraw_visit"), f"vw:{visit_id}"),
        edit=True,
        state={},
    )


async def _own_recent_visit(turn: Turn) -> tuple[visits.Visit | None, str | None]:
    """The visit named by the button, if it is the person's own and still within 24 hours."""
    visit_id = _int_arg(turn)
    visit = await visits.get(turn.conn, visit_id) if visit_id is not None else None
    if visit is None or visit.withdrawn_at is not None:
        return None, "visit_no_draft"
    if turn.member is None or visit.member_id != turn.member.id:
        return None, "visit_not_yours"
    if turn.now - visit.created_at > CORRECTION_WINDOW:
        return None, "visit_too_late"
    return visit, None


@router.button("ve")
@requires("visit.log")
async def correct(turn: Turn) -> Answer:
    """Reopen one's own visit (within 24 h) at the ticks, keeping name and note."""
    visit, problem = await _own_recent_visit(turn)
    if visit is None:
        return menu_answer(turn, turn.t(problem or "visit_no_draft"))
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    draft = {
        "key": secrets.token_hex(6),
        "hh": household.id,
        "edit": visit.id,
        "skills": visit.skills,
        "person": visit.person,
        "note": visit.note,
        "label": f"{household.code} · {household.head_name}",
    }
    return _skills_screen(turn, draft, edit=True)


async def _save_correction(
    turn: Turn, draft: dict[str, Any], person_name: object, person_key: str, note_text: str | None
) -> Answer:
    visit = await visits.get(turn.conn, int(draft["edit"]))
    if visit is None or turn.member is None or visit.member_id != turn.member.id:
        return menu_answer(turn, turn.t("visit_not_yours"))
    if turn.now - visit.created_at > CORRECTION_WINDOW:
        return menu_answer(turn, turn.t("visit_too_late"))
    await visits.update(
        turn.conn,
        visit.id,
        skills=int(draft["skills"]),
        person=person_name if isinstance(person_name, str) else None,
        person_key=person_key,
        note=note_text,
        now=turn.now,
    )
    await refresh_household(turn.conn, visit.household_id, turn.now)
    await turn.audit("update", f"visit:{visit.id}")
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    assert household is not None
    return await _saved_answer(turn, household, visit.id)


@router.button("vw")
@requires("visit.log")
async def withdraw(turn: Turn) -> Answer:
    """Withdraw one's own visit (within 24 h); the household's status is recomputed."""
    visit, problem = await _own_recent_visit(turn)
    if visit is None or turn.member is None:
        return menu_answer(turn, turn.t(problem or "visit_no_draft"))
    await visits.withdraw(turn.conn, visit.id, turn.now)
    await refresh_household(turn.conn, visit.household_id, turn.now)
    await turn.audit("withdraw", f"visit:{visit.id}")
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    assert household is not None
    progress = await _village_progress(turn, household.village_id)
    return menu_answer(
        turn,
        turn.t("visit_withdrawn", household=f"{household.code} · {household.head_name}", progress=progress),
    )


@router.button("vr")
@requires("visit.log")
async def recent(turn: Turn) -> Answer:
    """The person's visits of the last 24 hours, to correct or withdraw one."""
    assert turn.member is not None
    mine = await visits.recent_by_member(turn.conn, turn.member.id, turn.now - CORRECTION_WINDOW)
    items = []
    for visit in mine:
        household = await households.get(turn.conn, turn.commune, visit.household_id)
        if household is not None:
            items.append(button(f"✏️ {household.code} · {household.head_name}"[:60], f"ve:{visit.id}"))
    if not items:
        return menu_answer(turn, turn.t("visit_no_draft"))
    return reply(turn, turn.t("visit_found", count=len(items)), *items, edit=True, state={})


@router.button("vq")
@with_draft
async def cancel(turn: Turn, draft: dict[str, Any]) -> Answer:
    """Drop the draft; nothing was saved."""
    return menu_answer(turn, turn.t("visit_cancelled"), edit=True)
