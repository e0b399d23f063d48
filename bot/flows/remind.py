"""⏰ Nhắc tôi: at a guide step that makes the person wait, the bot reminds them once — tomorrow morning or
in three days, in the commune's time zone — with the step to go back to. Cancellable until sent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content import Guide
from bot.flows.base import Answer, Router, Turn, button, parse_id
from bot.flows.common import kept_state, menu_answer, reply
from bot.store import reminders

router = Router()
MORNING = time(7, 30)
DAYS = {"1": 1, "3": 3}


def _guide_step(turn: Turn, args: list[str]) -> tuple[Guide, int] | None:
    """The guide and step named by button data, if that step really makes the person wait."""
    guide = turn.content.guides.get(args[0]) if args else None
    number = parse_id(args[1]) if len(args) >= 2 else None
    if guide is None or number is None or not 1 <= number <= guide.total or not guide.steps[number - 1].wait:
        return None
    return guide, number


@router.button("rm")
async def ask_when(turn: Turn) -> Answer:
    found = _guide_step(turn, turn.args())
    if found is None:
        return menu_answer(turn, turn.t("stale_button"))
    guide, number = found
    t = turn.t
    return reply(
        turn,
        t("remind_when", what=guide.steps[number - 1].wait),
        button(t("btn_remind_tomorrow"), f"rmw:{guide.id}:{number}:1"),
        button(t("btn_remind_3days"), f"rmw:{guide.id}:{number}:3"),
        button(t("btn_back_to_step"), f"g:{guide.id}:{number}"),
        state=kept_state(turn),
    )


def due_at(now: datetime, days: int, timezone: str) -> datetime:
    """07:30 local, `days` days from today."""
    tz = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(tz).date() + timedelta(days=days), MORNING, tz)


@router.button("rmw")
async def set_reminder(turn: Turn) -> Answer:
    args = turn.args()
    found = _guide_step(turn, args[:2])
    days = DAYS.get(args[2]) if len(args) == 3 else None
    if found is None or days is None:
        return menu_answer(turn, turn.t("stale_button"))
    guide, number = found
    due = due_at(turn.now, days, turn.services.settings.timezone)
    made = await reminders.add(turn.conn, turn.inbound.sender, guide.id, number, due, turn.now)
    if made is None:
        return menu_answer(turn, turn.t("remind_too_many", count=reminders.MAX_PENDING))
    t = turn.t
    return reply(
        turn,
        t("remind_set", when=due.strftime("%H:%M ngày %d/%m"), what=guide.steps[number - 1].wait),
        button(t("btn_back_to_step"), f"g:{guide.id}:{number}"),
        button(t("btn_remind_cancel"), f"rmx:{made.id}"),
        state=kept_state(turn),
    )


@router.button("rmx")
async def cancel(turn: Turn) -> Answer:
    ident = turn.int_arg()
    if ident is None or not await reminders.cancel(turn.conn, ident, turn.inbound.sender, turn.now):
        return menu_answer(turn, turn.t("remind_gone"))
    return menu_answer(turn, turn.t("remind_cancelled"))
