"""Joining with an invite code, and the officers' tools for their team: invites, villages, deactivation."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot.access import ROLE_NAMES, Role
from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import menu_answer, pager, reply, tick
from bot.flows.link import use_link_code
from bot.flows.search import answer_text
from bot.privacy import has_id_number
from bot.store import audit, invites, members, villages

router = Router()
MAX_LABEL = 60
MAX_NAME_WORDS = 6  # "Nguyễn Thị Minh Khai" has four; a sentence has more
TEAM_PAGE = 20
MAX_VILLAGE_BUTTONS = 90  # Telegram allows 100 buttons a message; a merged commune rarely has more villages


def _village_names(ids: tuple[int, ...] | list[int], all_villages: list[villages.Village]) -> str:
    names = [v.name for v in all_villages if v.id in set(ids)]
    return ", ".join(names) or "chưa giao thôn"


@router.command("join")
async def join(turn: Turn) -> Answer:
    """`/join CODE`: become a volunteer or officer with a one-time invite."""
    code = invites.normalise(turn.inbound.payload)
    if not code:
        return menu_answer(turn, turn.t("join_prompt"), state={"await": "join_code"})
    return await _use_code(turn, code)


@router.text_for("join_code")
async def join_code_typed(turn: Turn) -> Answer:
    """The code typed after a bare /join; anything not shaped like a code is an ordinary question."""
    code = invites.normalise(turn.inbound.text)
    if len(code) != 8 or len(turn.inbound.text) > 20:
        answer = await answer_text(replace(turn, state={}))
        return Answer(answer.messages, answer.state if answer.state is not None else {})
    return await _use_code(turn, code)


async def _use_code(turn: Turn, code: str) -> Answer:
    conn, now = turn.conn, turn.now
    if await invites.locked_out(conn, turn.person, now):
        return menu_answer(turn, turn.t("join_locked"))
    invite = await invites.find(conn, code) if len(code) == 8 else None
    if invite is None:
        linked = await use_link_code(turn, code)  # a link code typed as an invite works the same
        if linked is not None:
            return linked
        await invites.record_failure(conn, turn.person, now)
        return menu_answer(turn, turn.t("join_bad"))
    if invite.used_at or invite.revoked_at:
        return menu_answer(turn, turn.t("join_used"))
    if invite.expires_at <= now:
        return menu_answer(turn, turn.t("join_expired"))
    member = await members.join(
        conn,
        channel=turn.inbound.channel,
        chat_id=turn.inbound.chat_id,
        commune=invite.commune,
        role=invite.role,
        label=invite.label,
        village_ids=invite.village_ids,
        now=now,
    )
    if not await invites.use(conn, invite.id, member.id, now):
        raise RuntimeError("invite used concurrently")  # rolled back by the engine: nobody half-joins
    await audit.record(
        conn,
        commune=invite.commune,
        actor=f"member:{member.id}",
        action="join",
        object=f"invite:{invite.id}",
        now=now,
        role=invite.role,
    )
    all_villages = await villages.for_commune(conn, invite.commune)
    where = f"Thôn phụ trách: {_village_names(member.village_ids, all_villages)}." if member.village_ids else ""
    joined = Turn(turn.inbound, {}, conn, turn.services, now, turn.caps, member)
    text = turn.t(
        "join_ok",
        name=member.label,
        role=ROLE_NAMES[Role(member.role)],
        villages=where,
        commune_title=turn.services.commune_name(member.commune),
    )
    return menu_answer(joined, text)


# ---- officers: the management menu ------------------------------------------------------------


@router.button("mg")
@requires("team.manage")
async def manage(turn: Turn) -> Answer:
    """Officers' menu: team, invites, roster import and export."""
    t = turn.t
    return reply(
        turn,
        t("manage_menu", commune_title=turn.services.commune_name(turn.commune)),
        button(t("btn_team"), "tl"),
        button(t("btn_invite"), "ir"),
        button(t("btn_import"), "ih"),
        button(t("btn_export_figures"), "ex"),
        button(t("btn_export_households"), "exh"),
        button(t("btn_reports"), "rp"),
        button(t("btn_onestop"), "os"),
        button(t("btn_qr"), "qr"),
        button(t("btn_announce"), "ao"),
        edit=True,
    )


@router.command("team")
@router.button("tl")
@requires("team.view")
async def team(turn: Turn) -> Answer:
    """The team: each member with role, villages and status; tap one to manage."""
    people = [m for m in await members.for_commune(turn.conn, turn.commune) if m.id != _me(turn)]
    if not people:
        return reply(turn, turn.t("team_empty"), button(turn.t("btn_invite"), "ir"))
    pages = (len(people) + TEAM_PAGE - 1) // TEAM_PAGE
    page = min(max(turn.int_arg() or 1, 1), pages)
    shown = people[(page - 1) * TEAM_PAGE : page * TEAM_PAGE]
    items = [button(f"{'✅' if m.active else '⛔'} {m.label}"[:60], f"tm:{m.id}") for m in shown]
    text = turn.t("team_title", count=len(people)) + (f" (trang {page}/{pages})" if pages > 1 else "")
    return reply(turn, text, *items, edit=turn.inbound.kind == "button", footer=pager("tl", page, pages))


def _manages(turn: Turn, member: members.Member) -> bool:
    """Officers manage volunteers; admins also manage officers; nobody changes an admin or themselves here."""
    if member.id == _me(turn) or member.role == Role.ADMIN:
        return False
    return member.role == Role.VOLUNTEER or turn.role == Role.ADMIN


def _me(turn: Turn) -> int:
    return turn.member.id if turn.member is not None else 0


async def _member_arg(turn: Turn) -> members.Member | None:
    member_id = turn.int_arg()
    return await members.by_id(turn.conn, turn.commune, member_id) if member_id is not None else None


@router.button("tm")
@requires("team.manage")
async def member_card(turn: Turn) -> Answer:
    """One member: villages, status, and what can be changed."""
    member = await _member_arg(turn)
    if member is None:
        return menu_answer(turn, turn.t("member_not_found"))
    all_villages = await villages.for_commune(turn.conn, turn.commune)
    text = turn.t(
        "member_card",
        name=member.label,
        role=ROLE_NAMES[Role(member.role)],
        villages=_village_names(member.village_ids, all_villages),
        status="đang hoạt động" if member.active else "đã ngừng",
    )
    actions = [button(turn.t("btn_change_villages"), f"tv:{member.id}")] if member.role == "volunteer" else []
    toggle = ("btn_deactivate", f"tx:{member.id}") if member.active else ("btn_reactivate", f"ta:{member.id}")
    if _manages(turn, member):
        actions.append(button(turn.t(toggle[0]), toggle[1]))
    return reply(turn, text, *actions, button(turn.t("btn_team"), "tl"), edit=True)


@router.button("tx")
@requires("team.manage")
async def deactivate(turn: Turn) -> Answer:
    """Deactivate a member: they become a citizen again; their visits stay."""
    return await _set_active(turn, False)


@router.button("ta")
@requires("team.manage")
async def reactivate(turn: Turn) -> Answer:
    return await _set_active(turn, True)


async def _set_active(turn: Turn, active: bool) -> Answer:
    member = await _member_arg(turn)
    if member is None:
        return menu_answer(turn, turn.t("member_not_found"))
    if member.id == _me(turn):
        return menu_answer(turn, turn.t("member_self"))
    if not _manages(turn, member):
        return menu_answer(turn, turn.t("member_not_managed"))
    await members.set_active(turn.conn, member.id, active, turn.now)
    await turn.audit("activate" if active else "deactivate", f"member:{member.id}")
    return reply(turn, turn.t("member_saved", name=member.label), button(turn.t("btn_team"), "tl"), edit=True)


@router.button("tv")
@requires("team.manage")
async def villages_start(turn: Turn) -> Answer:
    """Start choosing a volunteer's villages (the choice lives in the session until saved)."""
    member = await _member_arg(turn)
    if member is None or member.role != "volunteer":
        return menu_answer(turn, turn.t("member_not_found"))
    draft = {"member": member.id, "villages": list(member.village_ids)}
    return await _villages_screen(turn, draft, member.label)


async def _villages_screen(turn: Turn, draft: dict[str, object], name: str) -> Answer:
    chosen = set(draft["villages"])  # type: ignore[call-overload]
    all_villages = await villages.for_commune(turn.conn, turn.commune)
    toggles = [button(tick(v.name, v.id in chosen)[:60], f"tvt:{v.id}") for v in all_villages[:MAX_VILLAGE_BUTTONS]]
    state: dict[str, object] = {"team_villages": draft}
    return reply(
        turn,
        turn.t("member_pick_villages", name=name),
        *toggles,
        button(turn.t("btn_save"), "tvs"),
        edit=True,
        state=state,
        width=2,
    )


@router.button("tvt")
@requires("team.manage")
async def villages_toggle(turn: Turn) -> Answer:
    draft = turn.state.get("team_villages")
    village_id = turn.int_arg()
    if not isinstance(draft, dict) or village_id is None:
        return menu_answer(turn, turn.t("stale_button"))
    member = await members.by_id(turn.conn, turn.commune, int(draft.get("member", 0)))
    valid = {v.id for v in await villages.for_commune(turn.conn, turn.commune)}
    if member is None or village_id not in valid:
        return menu_answer(turn, turn.t("stale_button"))
    chosen = set(draft.get("villages", [])) ^ {village_id}
    return await _villages_screen(turn, {"member": member.id, "villages": sorted(chosen & valid)}, member.label)


@router.button("tvs")
@requires("team.manage")
async def villages_save(turn: Turn) -> Answer:
    draft = turn.state.get("team_villages")
    if not isinstance(draft, dict):
        return menu_answer(turn, turn.t("stale_button"))
    member = await members.by_id(turn.conn, turn.commune, int(draft.get("member", 0)))
    if member is None:
        return menu_answer(turn, turn.t("member_not_found"))
    valid = {v.id for v in await villages.for_commune(turn.conn, turn.commune)}
    chosen = sorted(set(draft.get("villages", [])) & valid)
    await members.set_villages(turn.conn, member.id, chosen)
    await turn.audit("move", f"member:{member.id}", villages=chosen)
    return reply(turn, turn.t("member_saved", name=member.label), button(turn.t("btn_team"), "tl"), edit=True, state={})


# ---- officers: invites --------------------------------------------------------------------------


@router.command("invite")
@router.button("ir")
@requires("invite.create")
async def invite_start(turn: Turn) -> Answer:
    """Choose who the invite is for; also lists pending invites with a revoke button each."""
    t = turn.t
    pending = await invites.pending(turn.conn, turn.commune, turn.now)
    revoke = [button(t("btn_revoke", name=i.label)[:60], f"ix:{i.id}") for i in pending[:20]]
    return reply(
        turn,
        t("invite_pick_role"),
        button(t("btn_role_volunteer"), "irv"),
        button(t("btn_role_officer"), "iro"),
        *revoke,
        edit=turn.inbound.kind == "button",
        state={},
    )


@router.button("iro")
@requires("invite.create")
async def invite_officer(turn: Turn) -> Answer:
    state = {"invite": {"role": "officer", "villages": []}, "await": "invite_label"}
    return menu_answer(turn, turn.t("invite_label"), state=state)


@router.button("irv")
@requires("invite.create")
async def invite_volunteer(turn: Turn) -> Answer:
    return await _invite_villages(turn, [])


async def _invite_villages(turn: Turn, chosen: list[int]) -> Answer:
    all_villages = await villages.for_commune(turn.conn, turn.commune)
    toggles = [button(tick(v.name, v.id in chosen)[:60], f"ivt:{v.id}") for v in all_villages[:MAX_VILLAGE_BUTTONS]]
    return reply(
        turn,
        turn.t("invite_pick_villages"),
        *toggles,
        button(turn.t("btn_next"), "ivn"),
        edit=True,
        state={"invite": {"role": "volunteer", "villages": chosen}},
        width=2,
    )


@router.button("ivt")
@requires("invite.create")
async def invite_toggle(turn: Turn) -> Answer:
    draft = turn.state.get("invite")
    village_id = turn.int_arg()
    if not isinstance(draft, dict) or village_id is None:
        return menu_answer(turn, turn.t("stale_button"))
    valid = {v.id for v in await villages.for_commune(turn.conn, turn.commune)}
    chosen = sorted((set(draft.get("villages", [])) ^ {village_id}) & valid)
    return await _invite_villages(turn, chosen)


@router.button("ivn")
@requires("invite.create")
async def invite_villages_done(turn: Turn) -> Answer:
    draft = turn.state.get("invite")
    if not isinstance(draft, dict):
        return menu_answer(turn, turn.t("stale_button"))
    if not draft.get("villages"):
        answer = await _invite_villages(turn, [])
        message = answer.messages[0]
        return Answer([replace(message, text=f"{turn.t('invite_need_village')}\n\n{message.text}")], answer.state)
    return menu_answer(turn, turn.t("invite_label"), state={"invite": draft, "await": "invite_label"})


@router.text_for("invite_label")
@requires("invite.create")
async def invite_label(turn: Turn) -> Answer:
    """The invitee's name: shown in the team list; the code is shown once, here."""
    draft = turn.state.get("invite")
    label = " ".join(turn.inbound.text.split())
    if not isinstance(draft, dict):
        return menu_answer(turn, turn.t("stale_button"))
    if "?" in label or len(label.split()) > MAX_NAME_WORDS:  # a question, not a name: say so, ask again
        return menu_answer(turn, turn.t("invite_label_not_a_name", limit=MAX_LABEL), state=turn.state)
    if not label or len(label) > MAX_LABEL or not any(ch.isalpha() for ch in label) or has_id_number(label):
        return menu_answer(turn, turn.t("visit_bad_name", limit=MAX_LABEL), state=turn.state)
    valid = {v.id for v in await villages.for_commune(turn.conn, turn.commune)}
    chosen = sorted(set(draft.get("villages", [])) & valid)
    role = "officer" if draft.get("role") == "officer" else "volunteer"
    invite, code = await invites.create(
        turn.conn,
        commune=turn.commune,
        role=role,
        label=label,
        village_ids=chosen,
        created_by=_me(turn) or None,
        now=turn.now,
    )
    await turn.audit("create", f"invite:{invite.id}", role=role)
    tz = ZoneInfo(turn.services.settings.timezone)
    text = turn.t(
        "invite_created", name=label, code=code, expires=invite.expires_at.astimezone(tz).strftime("%d/%m/%Y")
    )
    return menu_answer(turn, text)


@router.button("ix")
@requires("invite.revoke")
async def invite_revoke(turn: Turn) -> Answer:
    invite_id = turn.int_arg()
    invite = await invites.get(turn.conn, turn.commune, invite_id) if invite_id is not None else None
    if invite is None or not await invites.revoke(turn.conn, turn.commune, invite.id, turn.now):
        return menu_answer(turn, turn.t("invite_gone"))
    await turn.audit("revoke", f"invite:{invite.id}")
    return menu_answer(turn, turn.t("invite_revoked", name=invite.label))
