"""➕ A household missing from the roster: first look through the whole commune.

A household of another village is never copied into the volunteer's own: a same-name match elsewhere
is logged as help outside their area (counted for its own village, whose team is told), or, if the
household moved, becomes a request that an officer approves (`bot.store.moves`).
"""

from __future__ import annotations

import secrets

from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import kept_state, menu_answer, reply
from bot.flows.help import officers
from bot.flows.visits import (
    clean_name,
    found_screen,
    keep_draft,
    scope,
    skills_screen,
    start_draft,
    village_names,
)
from bot.messages import Outbound, Recipient
from bot.store import households, members, moves, villages
from bot.store.households import Household

router = Router()
MAX_HEAD_NAME = 100
MAX_ELSEWHERE = 3  # same-name households of other villages offered


@router.button("vn")
@requires("household.add")
async def new_household(turn: Turn) -> Answer:
    """Which village the new household is in (skipped when the volunteer has only one)."""
    mine = await scope(turn)
    if len(mine) == 1:
        return _ask_head_name(turn, mine[0])
    names = await village_names(turn)
    items = [button(names.get(v, str(v))[:60], f"vnv:{v}") for v in mine[:40]]
    return reply(turn, turn.t("visit_pick_village"), *items, edit=True, width=2, state=keep_draft(turn))


def _ask_head_name(turn: Turn, village_id: int) -> Answer:
    state = {**keep_draft(turn), "await": "visit_new_name", "new_village": village_id}
    return reply(turn, turn.t("visit_new_name"), state=state)


@router.button("vnv")
@requires("household.add")
async def new_household_village(turn: Turn) -> Answer:
    village_id = turn.int_arg()
    if village_id is None or village_id not in await scope(turn):
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    return _ask_head_name(turn, village_id)


@router.text_for("visit_new_name")
@requires("household.add")
async def new_household_name(turn: Turn) -> Answer:
    """The head's name: same-name households anywhere in the commune are shown before adding one."""
    village_id = turn.state.get("new_village")
    mine = await scope(turn)
    if not isinstance(village_id, int) or village_id not in mine:
        return menu_answer(turn, turn.t("visit_out_of_scope"))
    name = clean_name(turn.inbound.text, MAX_HEAD_NAME)
    if name is None:
        return reply(turn, turn.t("visit_bad_name", limit=MAX_HEAD_NAME), state=turn.state)
    # Searched apart, so that common names elsewhere never push the volunteer's own match off the list.
    others = [v.id for v in await villages.for_commune(turn.conn, turn.commune) if v.id not in mine]
    here = await households.search(turn.conn, mine, name)
    elsewhere = await households.search(turn.conn, others, name, limit=MAX_ELSEWHERE) if others else []
    names = await village_names(turn)
    if not here and not elsewhere:
        return _new_draft(turn, village_id, name, names.get(village_id, ""))
    t = turn.t
    listing, items = found_screen(turn, here, names)
    outside = []
    lines = [listing] if here else []
    for i, h in enumerate(elsewhere):  # other villages' households: name and village only
        village = names.get(h.village_id, "")
        lines.append(f"• {h.code} · {h.head_name} — {village}")
        outside.append(button(t("btn_outside", name=h.head_name, village=village)[:60], f"vxo:{i}"))
        moved = t("btn_moved_here", name=h.head_name, village=names.get(village_id, ""))
        outside.append(button(moved[:60], f"vmv:{i}"))
    state = {
        **keep_draft(turn),
        "new_village": village_id,
        "new_name": name,
        "elsewhere": [h.id for h in elsewhere],
    }
    return reply(
        turn,
        "\n".join([t("visit_same_name", name=name), *lines]),
        *items,
        *outside,
        button(t("btn_really_new"), "vnn"),
        button(t("btn_cancel"), "vnx"),
        state=state,
    )


def _new_draft(turn: Turn, village_id: int, name: str, village: str) -> Answer:
    draft = {
        "key": secrets.token_hex(6),
        "hh": None,
        "new": {"village": village_id, "name": name},
        "label": f"{name} (hộ mới) — {village}",
        "skills": 0,
    }
    return skills_screen(turn, draft)


@router.button("vnn")
@requires("household.add")
async def really_new(turn: Turn) -> Answer:
    """Not one of the same-name households: add it to the chosen village."""
    village_id, name = turn.state.get("new_village"), turn.state.get("new_name")
    if not isinstance(village_id, int) or not isinstance(name, str) or village_id not in await scope(turn):
        return menu_answer(turn, turn.t("visit_no_draft"))
    return _new_draft(turn, village_id, name, (await village_names(turn)).get(village_id, ""))


@router.button("vnx")
@requires("household.add")
async def cancel_new(turn: Turn) -> Answer:
    return menu_answer(turn, turn.t("visit_cancelled"), edit=True, state=keep_draft(turn))


async def _elsewhere(turn: Turn) -> Household | None:
    """The same-name household of another village the button points at (by index into the session)."""
    index, listed = turn.int_arg(), turn.state.get("elsewhere")
    if index is None or not isinstance(listed, list) or index >= len(listed):
        return None
    return await households.get(turn.conn, turn.commune, int(listed[index]))


@router.button("vxo")
@requires("visit.log")
async def outside_area(turn: Turn) -> Answer:
    """🤝 Log help to a household of another village: counted for its own village, credited to the volunteer."""
    household = await _elsewhere(turn)
    if household is None:
        return menu_answer(turn, turn.t("visit_no_draft"))
    return await start_draft(turn, household, outside=True)


@router.button("vmv")
@requires("household.add")
async def request_move(turn: Turn) -> Answer:
    """🏘 "It moved to my village": a request the officers approve; meanwhile log the help as outside."""
    household, village_id = await _elsewhere(turn), turn.state.get("new_village")
    member = turn.member
    if household is None or member is None or not isinstance(village_id, int) or village_id not in await scope(turn):
        return menu_answer(turn, turn.t("visit_no_draft"))
    move, created = await moves.request(
        turn.conn,
        commune=turn.commune,
        household_id=household.id,
        from_village=household.village_id,
        to_village=village_id,
        member_id=member.id,
        now=turn.now,
    )
    names = await village_names(turn)
    label = f"{household.code} · {household.head_name}"
    t = turn.t
    out: list[Outbound] = []
    if created:
        await turn.audit("move.request", f"household:{household.id}", move=move.id)
        text = t(
            "move_asked_officer",
            household=label,
            old=names.get(move.from_village, ""),
            new=names.get(move.to_village, ""),
            name=member.label,
        )
        decide = (
            (button(t("btn_move_approve"), f"mva:{move.id}"),),
            (button(t("btn_move_refuse"), f"mvr:{move.id}"),),
        )
        for officer in await officers(turn):
            to = Recipient(officer.channel, officer.chat_id)
            out.append(Outbound(text, decide, to=to, key=f"move:{move.id}:ask:{officer.id}"))
    index = turn.args()[0]
    key = "move_requested" if created else "move_pending"
    outside_label = t("btn_outside", name=household.head_name, village=names.get(household.village_id, ""))
    answer = reply(
        turn,
        t(key, household=label, village=names.get(move.to_village, "")),
        button(outside_label[:60], f"vxo:{index}"),
        state=turn.state,
    )
    return Answer([*answer.messages, *out], answer.state)


@router.button("mva")
@router.button("mvr")
@requires("team.manage")
async def decide_move(turn: Turn) -> Answer:
    """An officer approves or refuses a move; the household's figures follow it; the volunteer is told."""
    ident = turn.int_arg()
    move = await moves.get(turn.conn, turn.commune, ident) if ident is not None else None
    member = turn.member
    if move is None or member is None:
        return menu_answer(turn, turn.t("stale_button"))
    approve = turn.inbound.data.startswith("mva:")
    if not await moves.decide(turn.conn, move.id, approve=approve, member_id=member.id, now=turn.now):
        return menu_answer(turn, turn.t("move_already_decided"))
    await turn.audit("move.approve" if approve else "move.refuse", f"household:{move.household_id}", move=move.id)
    household = await households.get(turn.conn, turn.commune, move.household_id)
    names = await village_names(turn)
    label = f"{household.code} · {household.head_name}" if household else f"#{move.household_id}"
    word = "approved" if approve else "refused"
    fields = {"household": label, "old": names.get(move.from_village, ""), "new": names.get(move.to_village, "")}
    out = list(menu_answer(turn, turn.t(f"move_{word}_officer", **fields), edit=True).messages)
    asker = await members.by_id(turn.conn, turn.commune, move.requested_by)
    if asker is not None:
        to = Recipient(asker.channel, asker.chat_id)
        out.append(Outbound(turn.t(f"move_{word}_volunteer", **fields), to=to, key=f"move:{move.id}:{word}"))
    return Answer(out, kept_state(turn))
