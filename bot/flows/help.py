"""🙋 Nhờ hỗ trợ: a citizen asks the village's volunteers for help, one of them takes it, and after it
is done the citizen rates the help.

The citizen's four steps (village → need → when → phone) keep a draft in the session; nothing is stored
until ✅ Gửi yêu cầu. Every volunteer of the village is told in the same transaction (the outbox), or the
commune's officers when the village has nobody. Taking a request is one conditional UPDATE: the first
✋ wins, the others are told. Every button says which request it is about and is checked again
(role, village, holder) when pressed: callback data can be forged, and old buttons stay on screens.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.content import Content
from bot.flows.base import Answer, Router, Turn, button, parse_id, requires, rows
from bot.flows.common import kept_state, menu_answer, menu_row, reading, reply, star_row
from bot.messages import Outbound, Recipient
from bot.phone import normalise_phone, shown
from bot.privacy import has_id_number, looks_like_secret
from bot.store import help_requests, members, ratings, villages
from bot.store.help_requests import MAX_DETAIL, TIMES, HelpRequest
from bot.store.members import Member
from bot.text import fold

router = Router()
DRAFT = "hd"
VILLAGE = "village"  # the citizen's village, remembered for next time (kept by the engine: STICKY)
MAX_MESSAGE = 500
MAX_VILLAGE_BUTTONS = 60
OFFICER_LISTED = 20
MAX_TAKE_BUTTONS = 8


# ---- the citizen's request --------------------------------------------------------------------


def _draft(turn: Turn) -> dict[str, Any] | None:
    draft = turn.state.get(DRAFT)
    return draft if isinstance(draft, dict) else None


def _with_draft(turn: Turn, draft: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**kept_state(turn), DRAFT: {**draft, **changes}}


async def village_name(turn: Turn, village_id: object) -> str | None:
    """The name of a village of the person's commune (ids come from state or button data), else None."""
    if not isinstance(village_id, int):
        return None
    found = await villages.get(turn.conn, turn.commune, village_id)
    return found.name if found else None


@router.command("hotro")
@router.button("help")
async def start(turn: Turn) -> Answer:
    """Step 1: the village (skipped when remembered; changeable on the next screen)."""
    guide = reading(turn)
    draft: dict[str, Any] = {"guide": guide} if guide else {}
    remembered = turn.state.get(VILLAGE)
    if await village_name(turn, remembered) is not None:
        draft["v"] = remembered
        return await _ask_need(turn, draft)
    return await _ask_village(turn, draft)


async def _ask_village(turn: Turn, draft: dict[str, Any]) -> Answer:
    found = await villages.for_commune(turn.conn, turn.commune)
    if not found:
        return menu_answer(turn, turn.t("help_no_villages"))
    choices = [button(v.name[:40], f"hv:{v.id}") for v in found[:MAX_VILLAGE_BUTTONS]]
    state = {**kept_state(turn), DRAFT: draft}
    footer = (button(turn.t("btn_contact"), "contact"),)  # or rather call the one-stop office
    return reply(turn, turn.t("help_village"), *choices, width=2, state=state, footer=footer)


@router.button("hvc")
async def change_village(turn: Turn) -> Answer:
    draft = _draft(turn)
    if draft is None:
        return menu_answer(turn, turn.t("help_draft_gone"))
    return await _ask_village(turn, draft)


@router.button("hv")
async def village_chosen(turn: Turn) -> Answer:
    draft = _draft(turn)
    village_id = turn.int_arg()
    if draft is None:
        return menu_answer(turn, turn.t("help_draft_gone"))
    if village_id is None or await village_name(turn, village_id) is None:
        return await _ask_village(turn, draft)
    return await _ask_need(turn, {**draft, "v": village_id}, remember=village_id)


async def _ask_need(turn: Turn, draft: dict[str, Any], *, remember: int | None = None) -> Answer:
    """Step 2: the guide the person was reading first, then the topics, then "something else"."""
    t = turn.t
    village = await village_name(turn, draft.get("v")) or ""
    choices = []
    guide = turn.content.guides.get(str(draft.get("guide")))
    if guide is not None:
        choices.append(button(f"✓ {guide.title}"[:60], f"hn:g:{guide.id}"))
    choices += [button(topic.title, f"hn:t:{topic.id}") for topic in turn.content.topics]
    choices.append(button(t("btn_other_need"), "hno"))
    state = _with_draft(turn, draft)
    if remember is not None:
        state[VILLAGE] = remember
    footer = (button(t("btn_change_village", village=village)[:60], "hvc"),)
    return reply(turn, t("help_need", village=village), *choices, footer=footer, state=state)


def need_text(content: Content, topic: str, detail: str | None) -> str:
    """What the request is about, in words: the guide's or topic's title, or the person's own words."""
    kind, _, ident = topic.partition(":")
    if kind == "g" and ident in content.guides:
        return content.guides[ident].title
    if kind == "t":
        for item in content.topics:
            if item.id == ident:
                return item.title
    return detail or "Khác"


@router.button("hn")
async def need_chosen(turn: Turn) -> Answer:
    draft = _draft(turn)
    args = turn.args()
    if draft is None:
        return menu_answer(turn, turn.t("help_draft_gone"))
    topic = ":".join(args)
    if len(args) != 2 or need_text(turn.content, topic, None) == "Khác":
        return await _ask_need(turn, draft)
    return _ask_time(turn, _with_draft(turn, draft, topic=topic, detail=None))


@router.button("hno")
async def other_need(turn: Turn) -> Answer:
    draft = _draft(turn)
    if draft is None:
        return menu_answer(turn, turn.t("help_draft_gone"))
    state = {**_with_draft(turn, draft), "await": "help_other"}
    return reply(turn, turn.t("help_other_prompt", limit=MAX_DETAIL), state=state)


@router.text_for("help_other")
async def otherneed_text(turn: Turn) -> Answer:
    draft = _draft(turn)
    if draft is None:
        return menu_answer(turn, turn.t("help_draft_gone"))
    text = " ".join(turn.inbound.text.split())
    if looks_like_secret(text) or has_id_number(text):
        return reply(turn, turn.t("secret_warning"), state=turn.state)
    if not 3 <= len(text) <= MAX_DETAIL or not fold(text):
        return reply(turn, turn.t("help_other_bad", limit=MAX_DETAIL), state=turn.state)
    return _ask_time(turn, _with_draft(turn, draft, topic="other", detail=text))


def _ask_time(turn: Turn, state: dict[str, Any]) -> Answer:
    """Step 3: when suits them."""
    t = turn.t
    choices = [button(t(f"btn_time_{code}"), f"hw:{code}") for code in TIMES]
    return reply(turn, t("help_time"), *choices, width=2, state=state)


@router.button("hw")
async def time_chosen(turn: Turn) -> Answer:
    draft = _draft(turn)
    args = turn.args()
    if draft is None or "topic" not in draft:
        return menu_answer(turn, turn.t("help_draft_gone"))
    if len(args) != 1 or args[0] not in TIMES:
        return _ask_time(turn, turn.state)
    return _ask_phone(turn, _with_draft(turn, draft, time=args[0]))


def _ask_phone(turn: Turn, state: dict[str, Any], note: str | None = None) -> Answer:
    """Step 4: a typed mobile number, Telegram's "share my number" button, or "only message me here"."""
    t = turn.t
    text = f"{note}\n\n{t('help_phone')}" if note else t("help_phone")
    prompt = reply(turn, text, button(t("btn_chat_only"), "hp"), state={**state, "await": "help_phone"})
    keyboard = Outbound(t("help_phone_button_hint"), ask_contact=t("btn_share_phone"))
    return Answer([*prompt.messages, keyboard], prompt.state)


@router.text_for("help_phone")
async def phone_typed(turn: Turn) -> Answer:
    """A typed number (or a shared contact: the engine routes it here too)."""
    draft = _draft(turn)
    if draft is None or "time" not in draft:
        return menu_answer(turn, turn.t("help_draft_gone"))
    phone = normalise_phone(turn.inbound.text) if len(turn.inbound.text) <= 30 else None
    if phone is None:
        return _ask_phone(turn, turn.state, note=turn.t("help_phone_bad"))
    saved = Outbound(turn.t("help_phone_saved", phone=shown(phone)), close_keyboard=True)
    confirm = await _confirm(turn, {**draft, "phone": phone})
    return Answer([saved, *confirm.messages], confirm.state)


@router.button("hp")
async def chat_only(turn: Turn) -> Answer:
    draft = _draft(turn)
    if draft is None or "time" not in draft:
        return menu_answer(turn, turn.t("help_draft_gone"))
    confirm = await _confirm(turn, {**draft, "phone": None})
    first, *rest = confirm.messages
    return Answer([replace(first, close_keyboard=True), *rest], confirm.state)


async def _confirm(turn: Turn, draft: dict[str, Any], *, edit: bool = False) -> Answer:
    """Step 5: everything once more, the 👵 tick, and ✅ Gửi yêu cầu."""
    t = turn.t
    phone = draft.get("phone")
    text = t(
        "help_confirm",
        village=await village_name(turn, draft.get("v")) or "",
        need=need_text(turn.content, str(draft.get("topic")), draft.get("detail")),
        time=t(f"help_time_{draft.get('time')}"),
        phone=shown(phone) if isinstance(phone, str) else t("help_chat_only"),
        at_home=bool(draft.get("home")),
    )
    home = button(("☑ " if draft.get("home") else "☐ ") + t("btn_at_home"), "hh")
    state = _with_draft(turn, draft)
    state.pop("await", None)
    return reply(
        turn,
        text,
        home,
        button(t("btn_send_request"), "hok"),
        button(t("btn_cancel_draft"), "hx"),
        edit=edit,
        state=state,
    )


@router.button("hh")
async def toggle_home(turn: Turn) -> Answer:
    draft = _draft(turn)
    if draft is None or "time" not in draft or "phone" not in draft:
        return menu_answer(turn, turn.t("help_draft_gone"))
    return await _confirm(turn, {**draft, "home": not draft.get("home")}, edit=True)


@router.button("hx")
async def cancel_draft(turn: Turn) -> Answer:
    return menu_answer(turn, turn.t("help_draft_cancelled"))


@router.button("hok")
async def send(turn: Turn) -> Answer:
    """Store the request and tell the village's volunteers (or the officers) in the same transaction."""
    draft = _draft(turn)
    if draft is None or "time" not in draft or "phone" not in draft:
        latest = await help_requests.of_citizen(turn.conn, turn.inbound.sender, limit=1)
        if latest and DRAFT not in turn.state:  # a second tap on ✅: it went the first time
            return menu_answer(turn, turn.t("help_already_sent", id=latest[0].id))
        return menu_answer(turn, turn.t("help_draft_gone"))
    village_id = draft.get("v")
    village = await village_name(turn, village_id)
    if village is None or not isinstance(village_id, int):
        return await _ask_village(turn, draft)
    routed, helpers = await _helpers(turn, village_id)
    phone = draft.get("phone")
    request = await help_requests.create(
        turn.conn,
        commune=turn.commune,
        village_id=village_id,
        citizen=turn.inbound.sender,
        topic=str(draft.get("topic")),
        detail=draft.get("detail") if isinstance(draft.get("detail"), str) else None,
        time_pref=str(draft.get("time")),
        phone=phone if isinstance(phone, str) else None,
        at_home=bool(draft.get("home")),
        routed_to=routed,
        now=turn.now,
    )
    await turn.audit("help.request", f"help:{request.id}", routed_to=routed, helpers=len(helpers))
    t = turn.t
    who = t("help_sent_team", village=village) if routed == "village" else t("help_sent_officers")
    state = {**kept_state(turn), VILLAGE: village_id}
    mine = Outbound(t("help_sent", id=request.id, who=who), (*rows(_cancel_button(turn, request)), menu_row(turn)))
    return Answer([mine, *offers(turn, request, village, helpers)], state)


async def _helpers(turn: Turn, village_id: int) -> tuple[str, list[Member]]:
    """Who is asked: the village's active volunteers, or the commune's officers when it has none."""
    team = await village_team(turn, village_id)
    return ("village", team) if team else ("officers", await officers(turn))


async def village_team(turn: Turn, village_id: int) -> list[Member]:
    return [
        m
        for m in await members.for_commune(turn.conn, turn.commune)
        if m.active and m.role == "volunteer" and village_id in m.village_ids
    ]


async def officers(turn: Turn) -> list[Member]:
    return await members.officers(turn.conn, turn.commune)


def offers(turn: Turn, request: HelpRequest, village: str, helpers: list[Member]) -> list[Outbound]:
    """✋ Nhận giúp for each helper. Officers may see the phone number at once; volunteers after taking."""
    out = []
    for member in helpers:
        officer = member.role != "volunteer"
        text = _describe(turn, "help_offer", request, village, phone_visible=officer)
        take = ((button(turn.t("btn_take"), f"ha:{request.id}"),),)
        to = Recipient(member.channel, member.chat_id)
        out.append(Outbound(text, take, to=to, key=f"help:{request.id}:offer:{member.id}:{request.routed_to}"))
    return out


def _describe(turn: Turn, key: str, request: HelpRequest, village: str, *, phone_visible: bool) -> str:
    t = turn.t
    phone = shown(request.phone) if request.phone else t("help_chat_only")
    return t(
        key,
        id=request.id,
        village=village,
        need=need_text(turn.content, request.topic, request.detail),
        time=t(f"help_time_{request.time_pref}"),
        phone=phone if phone_visible else None,
        at_home=request.at_home,
    )


def _cancel_button(turn: Turn, request: HelpRequest) -> Any:
    return button(turn.t("btn_cancel_request"), f"hc:{request.id}")


# ---- the volunteer's side ---------------------------------------------------------------------


async def _request_arg(turn: Turn) -> HelpRequest | None:
    ident = turn.int_arg()
    return None if ident is None else await help_requests.get(turn.conn, turn.commune, ident)


def _may_handle(turn: Turn, request: HelpRequest) -> bool:
    """A volunteer acts on their own villages' requests; officers on any request of their commune."""
    member = turn.member
    if member is None or not turn.can("help.take"):
        return False
    return member.role != "volunteer" or request.village_id in member.village_ids


def status_word(turn: Turn, request: HelpRequest, holder: str = "") -> str:
    return turn.t(f"help_status_{request.status}", name=holder)


@router.button("ha")
@requires("help.take")
async def take(turn: Turn) -> Answer:
    """✋ Nhận giúp: the first to press wins; the citizen is told who will help (display name only)."""
    request = await _request_arg(turn)
    if request is None:
        return menu_answer(turn, turn.t("help_unknown"))
    if not _may_handle(turn, request):
        return menu_answer(turn, turn.t("help_not_yours"))
    member = turn.member
    assert member is not None
    if request.status != "open" or not await help_requests.take(turn.conn, request.id, member.id, turn.now):
        fresh = await help_requests.get(turn.conn, turn.commune, request.id) or request
        if fresh.status == "taken" and fresh.volunteer_id == member.id:
            return _holder_screen(turn, fresh, await village_name(turn, fresh.village_id) or "")
        key = "help_already_taken" if fresh.status == "taken" else "help_closed"
        return menu_answer(turn, turn.t(key, id=request.id, status=status_word(turn, fresh)))
    await turn.audit("help.take", f"help:{request.id}")
    taken = await help_requests.get(turn.conn, turn.commune, request.id)
    assert taken is not None
    village = await village_name(turn, taken.village_id) or ""
    answer = _holder_screen(turn, taken, village)
    out = list(answer.messages)
    if taken.citizen is not None:
        out.append(_to_citizen(turn, taken, turn.t("help_taken_citizen", name=member.label, id=taken.id), "taken"))
    for other in await village_team(turn, taken.village_id) if taken.routed_to == "village" else await officers(turn):
        if other.id != member.id:
            text = turn.t("help_taken_other", id=taken.id, name=member.label)
            to = Recipient(other.channel, other.chat_id)
            out.append(Outbound(text, to=to, key=f"help:{taken.id}:taken:{taken.taken_at}:{other.id}"))
    out += await _tell_raiser(turn, taken, "help_raiser_taken", member.label, f"taken:{taken.taken_at}")
    return Answer(out, answer.state)


async def _tell_raiser(turn: Turn, request: HelpRequest, key: str, name: str, event: str) -> list[Outbound]:
    """The volunteer who sent a household up to the officers hears when it is taken and when it is done."""
    if request.raised_by is None or (turn.member is not None and turn.member.id == request.raised_by):
        return []
    raiser = await members.by_id(turn.conn, turn.commune, request.raised_by)
    if raiser is None or not raiser.active:
        return []
    to = Recipient(raiser.channel, raiser.chat_id)
    return [Outbound(turn.t(key, id=request.id, name=name), to=to, key=f"help:{request.id}:raiser:{event}")]


def _holder_screen(turn: Turn, request: HelpRequest, village: str) -> Answer:
    t = turn.t
    text = _describe(turn, "help_taken_you", request, village, phone_visible=True)
    actions = [button(t("btn_help_done"), f"hd:{request.id}"), button(t("btn_hand_back"), f"hb:{request.id}")]
    if request.citizen is not None:
        actions.insert(0, button(t("btn_message_citizen"), f"hm:{request.id}"))
    return reply(turn, text, *actions, state=kept_state(turn))


def _to_citizen(turn: Turn, request: HelpRequest, text: str, event: str, buttons: Any = ()) -> Outbound:
    """A message for the request's citizen; if they blocked the bot, the helper is told instead."""
    assert request.citizen is not None
    bounce = None
    if turn.member is not None:
        phone = shown(request.phone) if request.phone else None
        bounce = Outbound(
            turn.t("help_undelivered", id=request.id, phone=phone),
            to=turn.inbound.sender,
            key=f"help:{request.id}:bounce:{event}:{turn.inbound.update_id}",
        )
    return Outbound(
        text,
        buttons,
        to=request.citizen,
        key=f"help:{request.id}:{event}:{turn.inbound.update_id}",
        undeliverable=bounce,
    )


@router.button("hd")
@requires("help.take")
async def done(turn: Turn) -> Answer:
    """✅ Đã giúp xong: the citizen is asked for a rating; the volunteer goes on to log the visit."""
    request = await _request_arg(turn)
    if request is None:
        return menu_answer(turn, turn.t("help_unknown"))
    member = turn.member
    assert member is not None
    holder = member.id if member.role == "volunteer" else None
    if not _may_handle(turn, request) or not await help_requests.finish(turn.conn, request.id, holder, turn.now):
        if request.status in ("done", "cancelled"):
            return menu_answer(turn, turn.t("help_closed", id=request.id, status=status_word(turn, request)))
        return menu_answer(turn, turn.t("help_not_yours"))
    await turn.audit("help.done", f"help:{request.id}")
    t = turn.t
    out = [Outbound(t("help_done_volunteer", id=request.id), (*rows(_visit_button(turn, request)), menu_row(turn)))]
    if request.citizen is not None:
        helper = await _helper_name(turn, request.volunteer_id)
        text = t("help_done_citizen", id=request.id, name=helper)
        out.append(_to_citizen(turn, request, text, "done", (star_row(f"hr:{request.id}"),)))
    out += await _tell_raiser(turn, request, "help_raiser_done", await _helper_name(turn, request.volunteer_id), "done")
    return Answer(out, kept_state(turn))


def _visit_button(turn: Turn, request: HelpRequest) -> Any:
    """Straight on to logging the visit, starting from the request (its household, or its village)."""
    if turn.can("visit.log"):
        return button(turn.t("btn_log_visit_after_help"), f"vhr:{request.id}")
    return button("🏠 Menu", "m")


async def _helper_name(turn: Turn, member_id: int | None) -> str:
    helper = await members.by_id(turn.conn, turn.commune, member_id) if member_id is not None else None
    return helper.label if helper is not None else "Tổ công nghệ số"


@router.button("hb")
@requires("help.take")
async def hand_back(turn: Turn) -> Answer:
    """↩️ Trả lại: open again, and the others are asked once more."""
    request = await _request_arg(turn)
    member = turn.member
    if request is None or member is None:
        return menu_answer(turn, turn.t("help_unknown"))
    if not await help_requests.hand_back(turn.conn, request.id, member.id):
        if request.status in ("done", "cancelled"):
            return menu_answer(turn, turn.t("help_closed", id=request.id, status=status_word(turn, request)))
        return menu_answer(turn, turn.t("help_not_yours"))
    await turn.audit("help.hand_back", f"help:{request.id}")
    reopened = await help_requests.get(turn.conn, turn.commune, request.id)
    assert reopened is not None
    village = await village_name(turn, reopened.village_id) or ""
    helpers = [m for m in (await _helpers(turn, reopened.village_id))[1] if m.id != member.id]
    again = [
        Outbound(o.text, o.buttons, to=o.to, key=f"{o.key}:again:{turn.inbound.update_id}")
        for o in offers(turn, reopened, village, helpers)
    ]
    out = [*menu_answer(turn, turn.t("help_handed_back", id=request.id)).messages, *again]
    if reopened.citizen is not None:
        out.append(_to_citizen(turn, reopened, turn.t("help_handed_back_citizen", id=request.id), "handback"))
    return Answer(out, kept_state(turn))


# ---- messages both ways -----------------------------------------------------------------------


@router.button("hm")
async def message_prompt(turn: Turn) -> Answer:
    """💬: the helper writes to the citizen, or the citizen answers the helper."""
    request = await _request_arg(turn)
    if request is None:
        return menu_answer(turn, turn.t("help_unknown"))
    side = _side(turn, request)
    if side is None:
        return menu_answer(turn, turn.t("help_not_yours"))
    whom = turn.t("help_whom_citizen" if side == "helper" else "help_whom_volunteer")
    state = {**kept_state(turn), "await": "help_message", "hm": request.id}
    return reply(turn, turn.t("help_message_prompt", whom=whom, id=request.id, limit=MAX_MESSAGE), state=state)


def _side(turn: Turn, request: HelpRequest) -> str | None:
    """Who may write about this request: its holder ("helper") or its citizen, while it is taken."""
    if request.status != "taken":
        return None
    member = turn.member
    if member is not None and member.active and member.id == request.volunteer_id and turn.can("help.take"):
        return "helper" if request.citizen is not None else None
    if request.citizen == turn.inbound.sender:
        return "citizen"
    return None


@router.text_for("help_message")
async def message_text(turn: Turn) -> Answer:
    ident = turn.state.get("hm")
    request = await help_requests.get(turn.conn, turn.commune, ident) if isinstance(ident, int) else None
    if request is None:
        return menu_answer(turn, turn.t("help_unknown"))
    side = _side(turn, request)
    if side is None:
        return menu_answer(turn, turn.t("help_closed", id=request.id, status=status_word(turn, request)))
    text = turn.inbound.text.strip()
    if not text or len(text) > MAX_MESSAGE:
        return reply(turn, turn.t("help_message_bad", limit=MAX_MESSAGE), state=turn.state)
    if looks_like_secret(text):
        return menu_answer(turn, turn.t("secret_warning"))
    t = turn.t
    if side == "helper":
        name = turn.member.label if turn.member is not None else ""
        answer_back = ((button(t("btn_reply_volunteer"), f"hm:{request.id}"),),)
        out = _to_citizen(
            turn, request, t("help_message_to_citizen", name=name, id=request.id, text=text), "msg", answer_back
        )
    else:
        helper = await members.by_id(turn.conn, turn.commune, request.volunteer_id or 0)
        if helper is None or not helper.active:
            return menu_answer(turn, turn.t("help_not_yours"))
        again = ((button(t("btn_message_citizen"), f"hm:{request.id}"),),)
        out = Outbound(
            t("help_message_to_volunteer", id=request.id, text=text),
            again,
            to=Recipient(helper.channel, helper.chat_id),
            key=f"help:{request.id}:msg:{turn.inbound.update_id}",
        )
    await turn.audit("help.message", f"help:{request.id}", side=side)
    return Answer([*menu_answer(turn, t("help_message_sent")).messages, out], kept_state(turn))


# ---- the citizen after sending: status, cancel, rating ----------------------------------------


@router.command("requests")
@router.button("hl")
async def my_requests(turn: Turn) -> Answer:
    """The person's own requests with their status (and, for a helper, what they hold)."""
    t = turn.t
    lines: list[str] = []
    actions = []
    mine = await help_requests.of_citizen(turn.conn, turn.inbound.sender)
    for request in mine:
        holder = await _helper_name(turn, request.volunteer_id) if request.volunteer_id else ""
        need = need_text(turn.content, request.topic, request.detail)
        lines.append(f"#{request.id} · {need} — {status_word(turn, request, holder)}")
        if request.is_open:
            actions.append(button(f"{t('btn_cancel_request')} #{request.id}", f"hc:{request.id}"))
    held = await help_requests.of_volunteer(turn.conn, turn.member.id) if turn.member is not None else []
    text_parts = []
    if lines:
        text_parts.append(t("help_requests_list") + "\n" + "\n".join(lines))
    if held:
        text_parts.append(
            t("help_requests_volunteer")
            + "\n"
            + "\n".join(f"#{r.id} · {need_text(turn.content, r.topic, r.detail)}" for r in held)
        )
        actions += [button(f"✋ #{r.id}", f"ha:{r.id}") for r in held]
    raised = await help_requests.raised_by(turn.conn, turn.member.id) if turn.member is not None else []
    if raised:
        listed = []
        for r in raised:
            holder = await _helper_name(turn, r.volunteer_id) if r.volunteer_id else ""
            listed.append(f"#{r.id} · {r.detail or ''} — {status_word(turn, r, holder)}")
        text_parts.append(t("help_requests_raised") + "\n" + "\n".join(listed))
    if turn.can("team.manage"):
        commune_part, take = await _commune_open(turn)
        text_parts += commune_part
        actions += take
    if not text_parts:
        return menu_answer(turn, t("help_requests_none"))
    return reply(turn, "\n\n".join(text_parts), *actions, state=kept_state(turn))


async def _commune_open(turn: Turn) -> tuple[list[str], list[Any]]:
    """Officers: every request of the commune still waiting, oldest first, with how long it has waited."""
    mine = turn.member.id if turn.member is not None else None
    waiting = [
        r
        for r in await help_requests.open_in_commune(turn.conn, turn.commune, limit=OFFICER_LISTED)
        if r.volunteer_id is None or r.volunteer_id != mine  # what they hold is listed above
    ]
    if not waiting:
        return [], []
    lines = []
    for request in waiting:
        village = await village_name(turn, request.village_id) or ""
        holder = await _helper_name(turn, request.volunteer_id) if request.volunteer_id else ""
        hours = int((turn.now - datetime.fromisoformat(request.created_at)).total_seconds() // 3600)
        need = need_text(turn.content, request.topic, request.detail)
        lines.append(
            f"#{request.id} · {village} · {need} — {status_word(turn, request, holder)} "
            + turn.t("help_waited", count=hours)
        )
    take = [button(f"{turn.t('btn_take')} #{r.id}", f"ha:{r.id}") for r in waiting if r.status == "open"]
    if not turn.can("help.take"):  # an admin sees the list, and takes nothing
        take = []
    return [turn.t("help_requests_commune") + "\n" + "\n".join(lines)], take[:MAX_TAKE_BUTTONS]


@router.button("hc")
async def cancel_ask(turn: Turn) -> Answer:
    request = await _request_arg(turn)
    if request is None or request.citizen != turn.inbound.sender:
        return menu_answer(turn, turn.t("help_unknown"))
    if not request.is_open:
        return menu_answer(turn, turn.t("help_closed", id=request.id, status=status_word(turn, request)))
    t = turn.t
    return reply(
        turn,
        t("help_cancel_confirm", id=request.id),
        button(t("btn_yes_cancel"), f"hcy:{request.id}"),
        button(t("btn_keep"), "hl"),
        state=kept_state(turn),
    )


@router.button("hcy")
async def cancel(turn: Turn) -> Answer:
    request = await _request_arg(turn)
    if request is None or request.citizen != turn.inbound.sender:
        return menu_answer(turn, turn.t("help_unknown"))
    if not await help_requests.cancel(turn.conn, request.id, turn.inbound.sender, turn.now):
        return menu_answer(turn, turn.t("help_closed", id=request.id, status=status_word(turn, request)))
    await turn.audit("help.cancel", f"help:{request.id}")
    notice = await cancelled_notice(turn, request)
    out = [*menu_answer(turn, turn.t("help_cancelled", id=request.id)).messages, *([notice] if notice else [])]
    return Answer(out, kept_state(turn))


async def cancelled_notice(turn: Turn, request: HelpRequest) -> Outbound | None:
    """Tell the volunteer holding a request that the citizen withdrew it (no need to go)."""
    if request.volunteer_id is None or request.status != "taken":
        return None
    helper = await members.by_id(turn.conn, turn.commune, request.volunteer_id)
    if helper is None:
        return None
    text = turn.t("help_cancelled_volunteer", id=request.id)
    return Outbound(text, to=Recipient(helper.channel, helper.chat_id), key=f"help:{request.id}:cancelled")


@router.button("hr")
async def rate(turn: Turn) -> Answer:
    """1–5 ★ for a finished request, by its own citizen only; then an optional comment."""
    args = turn.args()
    ident = parse_id(args[0]) if len(args) == 2 else None
    request = await help_requests.get(turn.conn, turn.commune, ident) if ident is not None else None
    if request is None or request.citizen != turn.inbound.sender or request.status != "done":
        return menu_answer(turn, turn.t("help_unknown"))
    if args[1] not in {"1", "2", "3", "4", "5"}:
        return menu_answer(turn, turn.t("stale_button"))
    stars = int(args[1])
    rating_id = await ratings.rate(
        turn.conn, subject_kind="help", subject_id=str(request.id), person=turn.person, stars=stars, now=turn.now
    )
    message = Outbound(turn.t("help_rate_thanks", stars=stars), (menu_row(turn),), edit=True, toast="✅")
    return Answer([message], {**kept_state(turn), "await": "rating_comment", "rating": rating_id})
