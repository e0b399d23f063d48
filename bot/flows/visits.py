"""📝 Logging a household visit in a few taps: find (or add) the household, tick what the trained
person can now do — or say why nothing could be done — optionally name them and add a note, confirm.

The draft lives in the session until ✅ Xác nhận, and survives typed text and detours to the menu.
Every button of a draft carries the draft's key, and the visit is stored under that key once, so a
double tap or a re-delivered update records one visit, and a button on an older copy of a screen
(sent twice after a crash, or scrolled back to) says what became of that draft instead of acting on
another one. A volunteer may correct or withdraw (after confirming) their own visit for 24 hours.
Households missing from the roster: `bot.flows.newhousehold`; "my week": `bot.flows.progress`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.coverage import ALL_SKILLS, RULE, SKILL_LABELS, describe, missing_after
from bot.flows.base import Answer, Handler, Router, Turn, button, requires
from bot.flows.common import menu_answer, noted, reply, tick
from bot.flows.help import need_text, offers, officers, village_team
from bot.messages import Outbound, Recipient
from bot.privacy import has_id_number
from bot.services.coverage import progress_line, refresh_household, week_start
from bot.store import help_requests, households, villages, visits
from bot.store.households import Household
from bot.store.visits import OUTCOMES
from bot.text import fold

router = Router()
CORRECTION_WINDOW = timedelta(hours=24)
MAX_NAME = 60
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


async def village_names(turn: Turn) -> dict[int, str]:
    return {v.id: v.name for v in await villages.for_commune(turn.conn, turn.commune)}


def household_label(household: Household, village: str) -> str:
    """What names a household on every screen: code, head, and village (same names exist)."""
    return f"{household.code} · {household.head_name} — {village}"


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
        progress = await village_progress(turn, household.village_id) if household else ""
        return menu_answer(turn, f"{turn.t('visit_already_saved')}\n{progress}", state=keep)
    if draft is not None:
        return await _resume(turn, draft, turn.t("visit_other_draft"))
    return menu_answer(turn, turn.t("visit_no_draft"))


async def _resume(turn: Turn, draft: dict[str, Any], note: str) -> Answer:
    """The open draft's current screen again, under a short note (no dead end after an odd tap)."""
    step = draft.get("step")
    if step == "summary":
        answer = await _summary(turn, draft)
    elif step == "reasons":
        answer = _reasons_screen(turn, draft, edit=False)
    elif step == "reason":
        answer = _ask_reason_text(turn, draft)
    elif step == "note":
        answer = _ask_note(turn, draft)
    elif step == "person":
        answer = _ask_person(turn, draft, list(draft.get("people") or []))
    else:
        return skills_screen(turn, draft, note=note)
    return noted(answer, note)


@router.text_for("visit_draft")
@requires("visit.log")
@with_draft
async def typed_during_draft(turn: Turn, draft: dict[str, Any]) -> Answer:
    """Text typed where a button was expected: the draft is kept, its screen shown again."""
    return await _resume(turn, draft, turn.t("visit_typed", household=draft["label"]))


@router.button("vy")
@requires("visit.log")
async def resume(turn: Turn) -> Answer:
    """▶ Tiếp tục: back to a draft left for the menu."""
    draft = _draft(turn)
    if draft is None:
        return menu_answer(turn, turn.t("visit_no_draft"))
    return await _resume(turn, draft, turn.t("visit_resumed"))


def keep_draft(turn: Turn) -> dict[str, Any]:
    draft = _draft(turn)
    return {"visit": draft} if draft else {}


def _index_arg(turn: Turn) -> int | None:
    """The index in a draft button's data ("vt:<key>:2" → 2)."""
    return turn.int_arg(2)


def clean_name(text: str, limit: int) -> str | None:
    name = " ".join(text.split())
    if not name or len(name) > limit or not any(ch.isalpha() for ch in name) or has_id_number(name):
        return None
    return name


async def village_progress(turn: Turn, village_id: int) -> str:
    since = week_start(turn.now, turn.services.settings.timezone)
    [line] = await households.progress(turn.conn, [village_id], since)
    return progress_line(line)


# ---- 1. find the household ----------------------------------------------------------------------


@router.command("visit")
@router.button("vs")
@requires("visit.log")
async def start(turn: Turn) -> Answer:
    """Ask for a household code or the head's name (a draft left for the menu can be resumed)."""
    if not await scope(turn):
        return menu_answer(turn, turn.t("visit_no_villages"))
    t = turn.t
    draft = _draft(turn)
    first = [button(t("btn_resume_visit", household=draft["label"])[:60], "vy")] if draft else []
    return reply(
        turn,
        t("visit_find"),
        *first,
        button(t("btn_new_household"), "vn"),
        button(t("btn_my_week"), "vm"),
        button(t("btn_recent_visits"), "vr"),
        state={"await": "visit_find", **({"visit": draft} if draft else {})},
    )


@router.button("vhr")
@requires("visit.log")
async def after_help(turn: Turn) -> Answer:
    """📝 after ✅ Đã giúp xong: the visit log starts from the request (its household, or its village)."""
    ident = turn.int_arg()
    request = await help_requests.get(turn.conn, turn.commune, ident) if ident is not None else None
    member = turn.member
    assert member is not None
    mine = request is not None and request.status == "done" and request.volunteer_id == member.id
    if request is None or not mine or request.village_id not in await scope(turn):
        return await start(turn)
    if request.household_id is not None:
        household = await households.get(turn.conn, turn.commune, request.household_id)
        if household is not None:
            return await start_draft(turn, household, help_id=request.id)
    need = need_text(turn.content, request.topic, request.detail)
    village = (await village_names(turn)).get(request.village_id, "")
    state = {"await": "visit_find", "help": request.id, "help_village": request.village_id}
    return reply(turn, turn.t("visit_find_after_help", id=request.id, need=need, village=village), state=state)


def found_screen(turn: Turn, found: list[Household], names: dict[int, str]) -> tuple[str, list[Any]]:
    """Each match with what tells same names apart: address, village, priority, status."""
    lines, items = [], []
    for n, h in enumerate(found, 1):
        where = ", ".join(x for x in (h.address, names.get(h.village_id, "")) if x)
        status = "✅ đã đạt" if h.reached_at else "chưa đạt"
        lines.append(f"{n}. {h.code} · {h.head_name} — {where} ({status})")
        tell_apart = h.address or names.get(h.village_id, "")
        items.append(button(f"{h.code} · {h.head_name} · {tell_apart}"[:60], f"vh:{h.id}"))
    return "\n".join(lines), items


@router.text_for("visit_find")
@requires("visit.log")
async def find(turn: Turn) -> Answer:
    """Households matching the typed code or name (light typos too), only from the person's own villages."""
    query = " ".join(turn.inbound.text.split())[:60]
    keep = {k: v for k, v in turn.state.items() if k in ("visit", "help", "help_village")}
    state = {**keep, "await": "visit_find"}
    if has_id_number(query):
        return reply(turn, turn.t("visit_secret"), state=state)
    mine = await scope(turn)
    help_village = turn.state.get("help_village")
    where = [help_village] if isinstance(help_village, int) and help_village in mine else mine
    found = await households.search(turn.conn, where, query) if fold(query) else []
    t = turn.t
    extra = (button(t("btn_new_household"), "vn"),)
    if not found:
        return reply(turn, t("visit_not_found", query=query), *extra, state=state)
    listing, items = found_screen(turn, found, await village_names(turn))
    return reply(turn, f"{t('visit_found', count=len(found))}\n{listing}", *items, *extra, state=state)


@router.button("vh")
@requires("visit.log")
async def pick(turn: Turn) -> Answer:
    """A household was chosen (from search or the to-do list): start a draft."""
    household_id = turn.int_arg()
    household = await _household_in_scope(turn, household_id) if household_id is not None else None
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    help_id = turn.state.get("help")
    return await start_draft(turn, household, help_id=help_id if isinstance(help_id, int) else None)


async def start_draft(turn: Turn, household: Household, *, outside: bool = False, help_id: int | None = None) -> Answer:
    village = (await village_names(turn)).get(household.village_id, "")
    draft: dict[str, Any] = {
        "key": secrets.token_hex(6),
        "hh": household.id,
        "label": household_label(household, village),
        "skills": 0,
    }
    if outside:
        draft["outside"] = True
    if help_id is not None:
        draft["help"] = help_id
    request = await help_requests.get(turn.conn, turn.commune, help_id) if help_id is not None else None
    note = None
    if request is not None:
        note = turn.t("visit_from_help", id=request.id, need=need_text(turn.content, request.topic, request.detail))
    return skills_screen(turn, draft, edit=turn.inbound.kind == "button", note=note)


# ---- 2. what can the trained person do now — or why nothing could be done ------------------------


def skills_screen(turn: Turn, draft: dict[str, Any], *, edit: bool = False, note: str | None = None) -> Answer:
    t = turn.t
    skills = int(draft.get("skills", 0))
    key = draft["key"]
    toggles = [button(tick(SKILL_LABELS[s], bool(skills & s)), f"vt:{key}:{i}") for i, s in enumerate(ALL_SKILLS)]
    draft["step"] = "ticks"
    text = t("visit_skills", household=draft["label"], rule=RULE)
    if note:
        text = f"{note}\n\n{text}"
    return reply(
        turn,
        text,
        *toggles,
        button(t("btn_next"), f"vk:{key}"),
        button(t("btn_nothing_done"), f"vz:{key}"),
        button(t("btn_cancel"), f"vq:{key}"),
        edit=edit,
        state={"visit": draft, "await": "visit_draft"},
    )


@router.button("vt")
@requires("visit.log")
@with_draft
async def toggle(turn: Turn, draft: dict[str, Any]) -> Answer:
    index = _index_arg(turn)
    if index is None or index >= len(ALL_SKILLS):
        return skills_screen(turn, draft, edit=True, note=turn.t("stale_button"))
    draft["skills"] = int(draft.get("skills", 0)) ^ int(ALL_SKILLS[index])
    draft.pop("outcome", None)
    return skills_screen(turn, draft, edit=True)


@router.button("vk")
@requires("visit.log")
@with_draft
async def skills_done(turn: Turn, draft: dict[str, Any]) -> Answer:
    if not draft.get("skills"):
        return skills_screen(turn, draft, edit=True, note=turn.t("visit_need_skill"))
    # Offer the people trained on earlier visits, so the same person is recorded the same way and
    # the "one person has every skill" rule can see it (bot/coverage.py).
    people = await visits.people_of(turn.conn, draft["hh"]) if isinstance(draft.get("hh"), int) else []
    draft["people"] = people
    return _ask_person(turn, draft, people, edit=True)


@router.button("vz")
@requires("visit.log")
@with_draft
async def nothing_done(turn: Turn, draft: dict[str, Any]) -> Answer:
    """🚫 Nothing could be done: why (it still counts as a visit, never as reached)."""
    return _reasons_screen(turn, draft, edit=True)


def _reasons_screen(turn: Turn, draft: dict[str, Any], *, edit: bool) -> Answer:
    key = draft["key"]
    draft["step"] = "reasons"
    reasons = [button(turn.t(f"outcome_{code}"), f"vzr:{key}:{i}") for i, code in enumerate(OUTCOMES)]
    return reply(
        turn,
        turn.t("visit_why_nothing", household=draft["label"]),
        *reasons,
        button(turn.t("btn_back_to_ticks"), f"vb:{key}"),
        edit=edit,
        state={"visit": draft, "await": "visit_draft"},
    )


@router.button("vb")
@requires("visit.log")
@with_draft
async def back_to_ticks(turn: Turn, draft: dict[str, Any]) -> Answer:
    """Back from the reasons: a reason (and its typed words) chosen before no longer applies."""
    if draft.pop("outcome", None) is not None:
        draft.pop("note", None)
    return skills_screen(turn, draft, edit=True)


@router.button("vzr")
@requires("visit.log")
@with_draft
async def reason_chosen(turn: Turn, draft: dict[str, Any]) -> Answer:
    index = _index_arg(turn)
    if index is None or index >= len(OUTCOMES):
        return skills_screen(turn, draft, edit=True, note=turn.t("stale_button"))
    for field in ("people", "person", "note"):
        draft.pop(field, None)
    draft.update(skills=0, outcome=OUTCOMES[index], person=None)
    if OUTCOMES[index] == "other":
        return _ask_reason_text(turn, draft)
    draft["note"] = None
    return await _summary(turn, draft)


def _ask_reason_text(turn: Turn, draft: dict[str, Any]) -> Answer:
    draft["step"] = "reason"
    return reply(
        turn,
        turn.t("visit_reason_text", limit=MAX_NOTE),
        button(turn.t("btn_back_to_ticks"), f"vb:{draft['key']}"),
        state={"visit": draft, "await": "visit_reason"},
    )


@router.text_for("visit_reason")
@requires("visit.log")
@with_draft
async def reason_text(turn: Turn, draft: dict[str, Any]) -> Answer:
    text = " ".join(turn.inbound.text.split())
    if has_id_number(text):
        return reply(turn, turn.t("visit_secret"), state=turn.state)
    if not text or len(text) > MAX_NOTE:
        return _ask_reason_text(turn, draft)
    draft["note"] = text
    return await _summary(turn, draft)


def _ask_person(turn: Turn, draft: dict[str, Any], people: list[str], *, edit: bool = False) -> Answer:
    key = draft["key"]
    draft["step"] = "person"
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
    name = clean_name(turn.inbound.text, MAX_NAME)
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
    draft["step"] = "note"
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
    return await _summary(turn, draft)


@router.button("vo")
@requires("visit.log")
@with_draft
async def skip_note(turn: Turn, draft: dict[str, Any]) -> Answer:
    draft["note"] = None
    return await _summary(turn, draft)


async def _outlook(turn: Turn, draft: dict[str, Any]) -> str:
    """Plainly: will the household count as reached after this visit, and if not, what is missing."""
    t = turn.t
    outcome = draft.get("outcome")
    if isinstance(outcome, str):
        return t("visit_outlook_nothing", reason=t(f"outcome_{outcome}"))
    hh, edit = draft.get("hh"), draft.get("edit")
    earlier = (
        await visits.active_for_household(turn.conn, hh, leave_out=edit if isinstance(edit, int) else None)
        if isinstance(hh, int)
        else []
    )
    person_name = draft.get("person")
    person_key = fold(person_name) if isinstance(person_name, str) else ""
    before, missing = missing_after(((p, s) for p, s, _ in earlier), person_key, int(draft["skills"]))
    if before:
        return t("visit_outlook_already")
    if not missing:
        return t("visit_outlook_reached")
    who = person_name if isinstance(person_name, str) else t("visit_unnamed_person")
    return t("visit_outlook_missing", missing=describe(int(missing)), who=who, rule=RULE)


async def _summary(turn: Turn, draft: dict[str, Any]) -> Answer:
    t = turn.t
    draft["step"] = "summary"
    outcome = draft.get("outcome")
    done = t(f"outcome_{outcome}") if isinstance(outcome, str) else describe(int(draft["skills"]))
    extra = "\n".join(
        x
        for x in (
            f"👤 {draft['person']}" if draft.get("person") else "",
            f"📝 {draft['note']}" if draft.get("note") else "",
            t("visit_outside_note") if draft.get("outside") else "",
            f"🙋 #{draft['help']}" if draft.get("help") else "",
        )
        if x
    )
    text = t(
        "visit_summary",
        household=draft["label"],
        mark="🚫" if isinstance(outcome, str) else "✔",
        skills=done,
        extra=extra,
        outlook=await _outlook(turn, draft),
    )
    return reply(
        turn,
        text,
        button(t("btn_confirm"), f"vc:{draft['key']}"),
        button(t("btn_cancel"), f"vq:{draft['key']}"),
        state={"visit": draft, "await": "visit_draft"},
    )


# ---- 4. confirm, cancel, correct, withdraw -------------------------------------------------------


@router.button("vc")
@requires("visit.log")
async def confirm(turn: Turn) -> Answer:
    """Save once. A second tap (or a re-delivery) finds the saved visit instead of a second one."""
    args, draft, member = turn.args(), _draft(turn), turn.member
    assert member is not None  # guaranteed by @requires
    if draft is not None and args == [draft["key"]] and draft.get("step") != "summary":
        # An ✅ left on an earlier summary after the draft changed: show what would be saved now.
        return await _resume(turn, draft, turn.t("visit_check_again"))
    if draft is None or args != [draft["key"]]:
        key = args[0] if len(args) == 1 else ""
        saved = await visits.household_for_key(turn.conn, f"{member.id}:{key}")
        # An old ✅ (a double tap, or from an earlier visit) must not end the draft now being filled in.
        keep = turn.state if draft is not None else None
        if saved is None:
            if draft is not None:
                return await _resume(turn, draft, turn.t("visit_other_draft"))
            return menu_answer(turn, turn.t("visit_no_draft"), state=keep)
        household = await households.get(turn.conn, turn.commune, saved)
        progress = await village_progress(turn, household.village_id) if household else ""
        return menu_answer(turn, f"{turn.t('visit_already_saved')}\n{progress}", state=keep)
    person_name = draft.get("person")
    person_key = fold(person_name) if isinstance(person_name, str) else ""
    note_text = draft.get("note") if isinstance(draft.get("note"), str) else None
    outcome = draft.get("outcome") if draft.get("outcome") in OUTCOMES else None
    if not outcome and not draft.get("skills"):  # neither trained anyone nor says why not
        return skills_screen(turn, draft, note=turn.t("visit_need_skill"))
    if isinstance(draft.get("edit"), int):
        return await _save_correction(turn, draft, person_name, person_key, note_text)
    household = await _draft_household(turn, draft)
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"), state={})
    help_id = draft.get("help")
    visit, created = await visits.record(
        turn.conn,
        request_key=f"{member.id}:{draft['key']}",
        household_id=household.id,
        member_id=member.id,
        skills=0 if outcome else int(draft["skills"]),
        person=person_name if isinstance(person_name, str) else None,
        person_key=person_key,
        note=note_text,
        now=turn.now,
        outcome=outcome,
        outside=bool(draft.get("outside")),
        help_id=help_id if isinstance(help_id, int) else None,
    )
    out: list[Outbound] = []
    if created:
        await refresh_household(turn.conn, household.id, turn.now)
        await turn.audit("create", f"visit:{visit.id}", household=household.id, outside=visit.outside)
        if visit.outside:
            out = await _tell_village_team(turn, household, visit)
    answer = await _saved_answer(turn, household, visit)
    return Answer([*answer.messages, *out], answer.state)


async def _tell_village_team(turn: Turn, household: Household, visit: visits.Visit) -> list[Outbound]:
    """Help outside one's area: the household's own village team hears of it (their figures changed)."""
    member = turn.member
    assert member is not None
    village = (await village_names(turn)).get(household.village_id, "")
    done = turn.t(f"outcome_{visit.outcome}") if visit.outcome else describe(visit.skills)
    text = turn.t("visit_outside_told", name=member.label, household=household_label(household, village), done=done)
    team = await village_team(turn, household.village_id) or await officers(turn)  # nobody there: officers
    return [
        Outbound(text, to=Recipient(m.channel, m.chat_id), key=f"visit:{visit.id}:outside:{m.id}")
        for m in team
        if m.id != member.id
    ]


async def _draft_household(turn: Turn, draft: dict[str, Any]) -> Household | None:
    if isinstance(draft.get("hh"), int):
        if draft.get("outside"):  # chosen on the same-name screen (ids kept in the session, not from a button)
            return await households.get(turn.conn, turn.commune, draft["hh"])
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


async def _saved_answer(turn: Turn, household: Household, visit: visits.Visit) -> Answer:
    """Saved. The first button, where a second tap on ✅ lands, only starts another visit; withdrawing,
    further down, asks before it acts."""
    t = turn.t
    progress = await village_progress(turn, household.village_id)
    village = (await village_names(turn)).get(household.village_id, "")
    key = "visit_saved_nothing" if visit.outcome else "visit_saved"
    text = t(key, household=household_label(household, village), progress=progress)
    escalate = [button(t("btn_ask_officers"), f"vhe:{visit.id}")] if visit.outcome else []
    return reply(
        turn,
        text,
        button(t("btn_another_visit"), "vs"),
        *escalate,
        button(t("btn_edit_visit"), f"ve:{visit.id}"),
        button(t("btn_withdraw_visit"), f"vw:{visit.id}"),
        edit=True,
        state={},
    )


async def _own_recent_visit(turn: Turn) -> tuple[visits.Visit | None, str | None]:
    """The visit named by the button, if it is the person's own and still within 24 hours."""
    visit_id = turn.int_arg()
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
    village = (await village_names(turn)).get(household.village_id, "")
    draft = {
        "key": secrets.token_hex(6),
        "hh": household.id,
        "edit": visit.id,
        "skills": visit.skills,
        "person": visit.person,
        "note": visit.note,
        "label": household_label(household, village),
    }
    if visit.outside:
        draft["outside"] = True
    if visit.outcome:
        draft["outcome"] = visit.outcome
    return skills_screen(turn, draft, edit=True)


async def _save_correction(
    turn: Turn, draft: dict[str, Any], person_name: object, person_key: str, note_text: str | None
) -> Answer:
    visit = await visits.get(turn.conn, int(draft["edit"]))
    if visit is None or turn.member is None or visit.member_id != turn.member.id:
        return menu_answer(turn, turn.t("visit_not_yours"), state={})
    if turn.now - visit.created_at > CORRECTION_WINDOW:
        return menu_answer(turn, turn.t("visit_too_late"), state={})
    outcome = draft.get("outcome") if draft.get("outcome") in OUTCOMES else None
    await visits.update(
        turn.conn,
        visit.id,
        skills=0 if outcome else int(draft["skills"]),
        person=person_name if isinstance(person_name, str) else None,
        person_key=person_key,
        note=note_text,
        now=turn.now,
        outcome=outcome,
    )
    await refresh_household(turn.conn, visit.household_id, turn.now)
    await turn.audit("update", f"visit:{visit.id}")
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    fresh = await visits.get(turn.conn, visit.id)
    assert household is not None and fresh is not None
    return await _saved_answer(turn, household, fresh)


@router.button("vw")
@requires("visit.log")
async def withdraw_ask(turn: Turn) -> Answer:
    """↩️ asks first: "keep it" is the top button, where a hurried second tap lands."""
    visit, problem = await _own_recent_visit(turn)
    if visit is None:
        return menu_answer(turn, turn.t(problem or "visit_no_draft"))
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    t = turn.t
    label = f"{household.code} · {household.head_name}" if household else ""
    return reply(
        turn,
        t("visit_withdraw_confirm", household=label),
        button(t("btn_keep_visit"), "vwn"),
        button(t("btn_yes_withdraw"), f"vwy:{visit.id}"),
        edit=True,
        state=keep_draft(turn),
    )


@router.button("vwn")
@requires("visit.log")
async def withdraw_no(turn: Turn) -> Answer:
    """◀ Không, giữ lại: said plainly, so nobody wonders whether it went."""
    return menu_answer(turn, turn.t("visit_kept"), edit=True)


@router.button("vwy")
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
    progress = await village_progress(turn, household.village_id)
    return menu_answer(
        turn,
        turn.t("visit_withdrawn", household=f"{household.code} · {household.head_name}", progress=progress),
        edit=True,
    )


@router.button("vhe")
@requires("visit.log")
async def ask_officers(turn: Turn) -> Answer:
    """🙋 A household nothing could be done for becomes a help request to the commune's officers."""
    ident = turn.int_arg()
    visit = await visits.get(turn.conn, ident) if ident is not None else None
    member = turn.member
    if visit is None or member is None or visit.member_id != member.id or not visit.outcome:
        return menu_answer(turn, turn.t("stale_button"))
    if visit.withdrawn_at is not None:
        return menu_answer(turn, turn.t("visit_no_draft"))
    household = await households.get(turn.conn, turn.commune, visit.household_id)
    if household is None:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    existing = await help_requests.raised_for(turn.conn, household.id)
    if existing is not None:
        return menu_answer(turn, turn.t("visit_already_asked", id=existing.id))
    reason = turn.t(f"outcome_{visit.outcome}")
    detail = f"Hộ {household.code} · {household.head_name}: {reason}" + (f" — {visit.note}" if visit.note else "")
    request = await help_requests.create(
        turn.conn,
        commune=turn.commune,
        village_id=household.village_id,
        citizen=None,
        topic="other",
        detail=detail,
        time_pref="any",
        phone=None,
        at_home="elderly" in household.priorities or "disabled" in household.priorities,
        routed_to="officers",
        now=turn.now,
        household_id=household.id,
        raised_by=member.id,
    )
    await turn.audit("help.request", f"help:{request.id}", routed_to="officers", household=household.id)
    village = (await village_names(turn)).get(household.village_id, "")
    sent = menu_answer(turn, turn.t("visit_asked_officers", id=request.id), edit=True)
    return Answer([*sent.messages, *offers(turn, request, village, await officers(turn))], sent.state)


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
        return menu_answer(turn, turn.t("visit_no_recent"), state=keep_draft(turn))
    return reply(turn, turn.t("visit_found", count=len(items)), *items, edit=True, state=keep_draft(turn))


@router.button("vq")
@requires("visit.log")
@with_draft
async def cancel(turn: Turn, draft: dict[str, Any]) -> Answer:
    """Drop the draft; nothing was saved."""
    return menu_answer(turn, turn.t("visit_cancelled"), edit=True, state={})
