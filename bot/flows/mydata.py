"""🔔 announcements opt-in, and the person's rights over their data: /mydata shows it, /deleteme erases it.

What the bot keeps about a citizen is small on purpose: the session (place in a guide, form of address,
village), the 🔔 subscription, help requests (with a phone number only if they gave one) and ratings.
Deleting keeps the commune's counts right: requests and ratings stay, anonymised.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.access import ROLE_NAMES
from bot.flows.base import Answer, Router, Turn, button, parse_id
from bot.flows.common import kept_state, menu_answer, reply
from bot.flows.help import MAX_VILLAGE_BUTTONS, VILLAGE, cancelled_notice, need_text, status_word, village_name
from bot.flows.link import channel_name
from bot.flows.settings import FORMS
from bot.messages import Recipient
from bot.phone import shown
from bot.store import audit, files, help_requests, identities, ratings, reminders, subscriptions, villages

router = Router()


# ---- 🔔 announcements -------------------------------------------------------------------------


@router.command("thongbao")
@router.button("an")
async def announcements(turn: Turn) -> Answer:
    """Whether the person receives the commune's announcements, and the choices."""
    t = turn.t
    current = await subscriptions.get(turn.conn, turn.inbound.sender)
    if current is None:
        text = t("announce_status_none")
    elif current.village_id is None:
        text = t("announce_status_commune")
    else:
        text = t("announce_status_village", village=await village_name(turn, current.village_id) or "")
    choices = [button(t("btn_subscribe_commune"), "ans:all")]
    remembered = await village_name(turn, turn.state.get(VILLAGE))
    if remembered is not None:
        choices.append(button(t("btn_subscribe_village", village=remembered)[:60], f"ans:{turn.state[VILLAGE]}"))
    else:
        choices.append(button(t("btn_subscribe_village", village="thôn của tôi")[:60], "anv"))
    if current is not None:
        choices.append(button(t("btn_unsubscribe"), "anx"))
    return reply(turn, text, *choices, state=kept_state(turn))


@router.button("anv")
async def pick_village(turn: Turn) -> Answer:
    found = await villages.for_commune(turn.conn, turn.commune)
    if not found:
        return await announcements(turn)
    choices = [button(v.name[:40], f"ans:{v.id}") for v in found[:MAX_VILLAGE_BUTTONS]]
    return reply(turn, turn.t("announce_pick_village"), *choices, width=2, state=kept_state(turn))


@router.button("ans")
async def subscribe(turn: Turn) -> Answer:
    args = turn.args()
    village_id = None if args == ["all"] else parse_id(args[0]) if len(args) == 1 else None
    state = kept_state(turn)
    if args != ["all"]:
        if village_id is None or await village_name(turn, village_id) is None:
            return menu_answer(turn, turn.t("stale_button"))
        state[VILLAGE] = village_id
    await subscriptions.subscribe(turn.conn, turn.inbound.sender, turn.commune, village_id, turn.now)
    return menu_answer(turn, turn.t("announce_saved"), state=state)


@router.button("anx")
async def unsubscribe(turn: Turn) -> Answer:
    await subscriptions.unsubscribe(turn.conn, turn.inbound.sender)
    return menu_answer(turn, turn.t("announce_left"))


# ---- my data ----------------------------------------------------------------------------------


@router.command("mydata")
async def my_data(turn: Turn) -> Answer:
    t = turn.t
    lines: list[str] = []
    if turn.member is not None:
        role = ROLE_NAMES.get(turn.role, turn.member.role)
        lines.append(t("mydata_member", role=role, label=turn.member.label))
        chats = [
            Recipient(turn.member.channel, turn.member.chat_id),
            *await identities.others_of(turn.conn, turn.member.id),
        ]
        others = sorted({channel_name(c.channel) for c in chats if c != turn.inbound.sender})
        if others:
            lines.append(t("mydata_linked", where=", ".join(others)))
    form = turn.state.get("addr")
    if isinstance(form, str) and form in FORMS:
        lines.append(t("mydata_address", form=FORMS[form]))
    village = await village_name(turn, turn.state.get(VILLAGE))
    if village is not None:
        lines.append(t("mydata_village", village=village))
    guide = turn.content.guides.get(str(turn.state.get("guide")))
    if guide is not None:
        lines.append(t("mydata_guide", title=guide.title))
    subscription = await subscriptions.get(turn.conn, turn.inbound.sender)
    if subscription is not None:
        what = "cả xã" if subscription.village_id is None else await village_name(turn, subscription.village_id)
        lines.append(t("mydata_subscription", what=what or ""))
    for request in await help_requests.of_citizen(turn.conn, turn.inbound.sender, limit=20):
        lines.append(
            t(
                "mydata_request",
                id=request.id,
                status=status_word(turn, request, "Tổ công nghệ số"),
                need=need_text(turn.content, request.topic, request.detail),
                phone=shown(request.phone) if request.phone else None,
            )
        )
    count = await ratings.count_by_person(turn.conn, turn.person)
    if count:
        lines.append(t("mydata_ratings", count=count))
    waiting = await reminders.pending_of(turn.conn, turn.inbound.sender)
    tz = ZoneInfo(turn.services.settings.timezone)
    for reminder in waiting:
        guide = turn.content.guides.get(reminder.guide_id)
        when = reminder.due_at.astimezone(tz).strftime("%H:%M %d/%m")
        lines.append(t("mydata_reminder", when=when, title=guide.title if guide else reminder.guide_id))
    if not lines:
        return menu_answer(turn, t("mydata_none"))
    cancels = [button(t("btn_remind_cancel") + f" ({r.due_at.astimezone(tz):%d/%m})", f"rmx:{r.id}") for r in waiting]
    if turn.can("identity.link"):
        cancels.append(button(t("btn_link"), "lk"))
    if cancels:
        return reply(turn, t("mydata", lines=lines), *cancels, state=kept_state(turn))
    return menu_answer(turn, t("mydata", lines=lines))


@router.command("deleteme")
async def delete_ask(turn: Turn) -> Answer:
    t = turn.t
    if turn.member is not None and turn.member.active:
        return menu_answer(turn, t("deleteme_member"))
    return reply(
        turn,
        t("deleteme_confirm"),
        button(t("btn_delete_yes"), "dly"),
        button(t("btn_delete_no"), "m"),
        state=kept_state(turn),
    )


@router.button("dly")
async def delete(turn: Turn) -> Answer:
    """Erase: subscription, session, phone numbers and texts of requests (open ones cancelled), and the
    link between the person and their ratings and audit entries. A volunteer holding one of their
    requests is told it was withdrawn."""
    if turn.member is not None and turn.member.active:
        return menu_answer(turn, turn.t("deleteme_member"))
    who = turn.inbound.sender
    held = [r for r in await help_requests.of_citizen(turn.conn, who, limit=1000) if r.is_open]
    notices = []
    for request in held:
        notice = await cancelled_notice(turn, request)
        if notice is not None:
            notices.append(notice)
    await subscriptions.unsubscribe(turn.conn, who)
    await reminders.forget(turn.conn, who)
    await files.forget_for(turn.conn, who)
    await identities.forget_chat(turn.conn, who)
    await help_requests.forget_citizen(turn.conn, who, turn.now)
    await ratings.forget_person(turn.conn, turn.person)
    await audit.forget_actor(turn.conn, turn.person)
    answer = menu_answer(turn, turn.t("deleteme_done"), state={})
    return Answer([*answer.messages, *notices], {}, forget=True)
