"""One person on Telegram and Zalo: a volunteer or officer links a second chat with a one-time code,
so their role, villages and history follow them and notifications go to the chat they linked last."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.access import ROLE_NAMES, Role
from bot.flows.base import Answer, Router, Turn, requires
from bot.flows.common import menu_answer
from bot.messages import Outbound, Recipient
from bot.store import audit, identities, invites, members

router = Router()
CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


@router.command("lienket", "link")
@router.button("lk")
async def link(turn: Turn) -> Answer:
    """Members get a code to type on their other messenger; a code typed after /lienket links this chat."""
    code = invites.normalise(turn.inbound.payload)
    if code:
        return await _redeem(turn, code)
    if not turn.can("identity.link"):
        return menu_answer(turn, turn.t("link_how_to_join"))
    return await _new_code(turn)


@requires("identity.link")
async def _new_code(turn: Turn) -> Answer:
    assert turn.member is not None
    code, expires = await identities.create_code(turn.conn, turn.member.id, turn.now)
    await turn.audit("create", f"link:{turn.member.id}")
    until = expires.astimezone(ZoneInfo(turn.services.settings.timezone)).strftime("%H:%M")
    other = "Zalo" if turn.inbound.channel == "telegram" else "Telegram"
    return menu_answer(turn, turn.t("link_code", code=code, until=until, other=other))


async def _redeem(turn: Turn, code: str) -> Answer:
    """A code typed after /lienket: wrong guesses count toward the invite codes' lockout."""
    if await invites.locked_out(turn.conn, turn.person, turn.now):
        return menu_answer(turn, turn.t("join_locked"))
    answer = await use_link_code(turn, code)
    if answer is None:
        await invites.record_failure(turn.conn, turn.person, turn.now)
        return menu_answer(turn, turn.t("link_bad"))
    return answer


async def use_link_code(turn: Turn, code: str) -> Answer | None:
    """Link this chat to the member the code was made for; None when `code` is no link code (the
    caller counts the wrong guess)."""
    conn, now, speaker = turn.conn, turn.now, turn.inbound.sender
    found = await identities.find_code(conn, code) if len(code) == 8 else None
    if found is None:
        return None
    if found.used_at is not None or found.expires_at <= now:
        return menu_answer(turn, turn.t("link_expired"))
    member = await members.with_id(conn, found.member_id)
    if member is None or not member.active:
        return menu_answer(turn, turn.t("link_expired"))
    if turn.member is not None and turn.member.id == member.id:
        await identities.use_code(conn, found.id, now)
        return menu_answer(turn, turn.t("link_already"))
    if turn.member is not None:
        return menu_answer(turn, turn.t("link_other_member"))
    if not await identities.use_code(conn, found.id, now):
        raise RuntimeError("link code used concurrently")  # rolled back: nothing half-linked
    before = Recipient(member.channel, member.chat_id)
    await identities.link(conn, member, speaker, now)
    await audit.record(
        conn,
        commune=member.commune,
        actor=f"member:{member.id}",
        action="link",
        object=f"member:{member.id}",
        now=now,
        channel=speaker.channel,
    )
    linked = await members.with_id(conn, member.id)
    shown = Turn(turn.inbound, {}, conn, turn.services, now, turn.caps, linked)
    text = turn.t(
        "link_done",
        name=member.label,
        role=ROLE_NAMES[Role(member.role)],
        here=channel_name(speaker.channel),
        there=channel_name(before.channel),
    )
    answer = menu_answer(shown, text, state={})
    notice = Outbound(
        turn.t("link_notice", here=channel_name(speaker.channel), there=channel_name(before.channel)),
        to=before,
        key=f"link:{found.id}:notice",
    )
    return Answer([*answer.messages, notice], answer.state)
