"""📊 Progress toward the one-person-per-household target, 📋 the to-do list of unreached households, and
📅 a volunteer's own visits today and this week."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.coverage import RULE
from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import menu_answer, pager, reply
from bot.flows.visits import keep_draft, scope, village_names
from bot.services.coverage import percent, progress_line, week_start
from bot.store import households, villages, visits
from bot.store.households import Household, VillageProgress

router = Router()
PAGE = 8
MY_WEEK_LISTED = 15
PRIORITY_MARK = {"elderly": "👴", "disabled": "♿", "poor": "🏚", "ethnic": "🎎"}


@router.command("progress")
@router.button("pg")
@requires("progress.view")
async def progress(turn: Turn) -> Answer:
    """A volunteer's villages, or every village for an officer: reached / total / % and the week's change."""
    lines = await households.progress(
        turn.conn,
        await scope(turn) if turn.member else [],
        week_start(turn.now, turn.services.settings.timezone),
    )
    if not any(p.total for p in lines):
        return menu_answer(turn, turn.t("progress_empty"))
    text = "\n".join([turn.t("progress_title"), *(f"• {progress_line(p)}" for p in lines), f"ℹ️ {RULE}"])
    if len(lines) > 1:
        total = VillageProgress(
            0,
            "",
            sum(p.total for p in lines),
            sum(p.reached for p in lines),
            sum(p.new_this_week for p in lines),
        )
        summary = f"{total.reached}/{total.total} hộ đạt ({percent(total.reached, total.total)})"
        text += "\n" + turn.t("progress_total", progress=summary)
    return menu_answer(turn, text[:4000], edit=turn.inbound.kind == "button")


def _last_visit(stamp: str | None, timezone: str) -> str:
    if not stamp:
        return "chưa hỗ trợ lần nào"
    return "lần cuối " + datetime.fromisoformat(stamp).astimezone(ZoneInfo(timezone)).strftime("%d/%m")


@router.command("todo")
@router.button("td")
@requires("todo.view")
async def todo(turn: Turn) -> Answer:
    """Unreached households of the person's villages, priority groups first, paged; tap one to log a visit."""
    page = max(turn.int_arg() or 1, 1)
    mine = await scope(turn)
    items, total = await households.todo(turn.conn, mine, limit=PAGE, offset=(page - 1) * PAGE)
    if total == 0:
        return menu_answer(turn, turn.t("todo_empty"))
    pages = (total + PAGE - 1) // PAGE
    if not items:
        page, (items, total) = (
            pages,
            await households.todo(turn.conn, mine, limit=PAGE, offset=(pages - 1) * PAGE),
        )
    names = {v.id: v.name for v in await villages.for_commune(turn.conn, turn.commune)}
    tz = turn.services.settings.timezone
    lines = [turn.t("todo_title", count=total, step=page, total=pages)]
    for h in items:
        marks = "".join(PRIORITY_MARK[p] for p in sorted(h.priorities) if p in PRIORITY_MARK)
        where = ", ".join(x for x in (h.address, names.get(h.village_id, "")) if x)
        lines.append(f"• {h.code} · {h.head_name} ({where}) {marks} — {_last_visit(h.last_visit_at, tz)}")
    buttons = [button(_todo_label(h), f"vh:{h.id}") for h in items]
    edit = turn.inbound.kind == "button"
    return reply(turn, "\n".join(lines), *buttons, edit=edit, state=keep_draft(turn), footer=pager("td", page, pages))


@router.command("mine")
@router.button("vm")
@requires("visit.log")
async def my_week(turn: Turn) -> Answer:
    """The volunteer's own visits today and this week: reached, not yet, nothing done, withdrawn, outside."""
    member = turn.member
    assert member is not None
    tz = ZoneInfo(turn.services.settings.timezone)
    monday = week_start(turn.now, turn.services.settings.timezone)
    today = turn.now.astimezone(tz).date()
    mine = await visits.by_member_since(turn.conn, member.id, monday)
    t = turn.t
    if not mine:
        again = button(t("btn_another_visit"), "vs")
        return reply(turn, t("my_week_empty"), again, edit=turn.inbound.kind == "button", state=keep_draft(turn))
    names = await village_names(turn)
    lines: list[str] = []
    visits_in = {"today": 0, "week": 0}
    # Households the person helped to reached in the period: reached then, and one of their visits then
    # trained someone (a household another volunteer reached months ago is not theirs this week).
    reached: dict[str, set[int]] = {"today": set(), "week": set()}
    for visit in mine:
        household = await households.get(turn.conn, turn.commune, visit.household_id)
        if household is None:
            continue
        when = visit.created_at.astimezone(tz)
        for period in ("today", "week") if when.date() == today else ("week",):
            visits_in[period] += visit.withdrawn_at is None
            since = monday if period == "week" else when.replace(hour=0, minute=0, second=0)
            became = household.reached_at is not None and datetime.fromisoformat(household.reached_at) >= since
            if became and visit.withdrawn_at is None and not visit.outcome:
                reached[period].add(household.id)
        if len(lines) < MY_WEEK_LISTED:
            lines.append(
                f"{when:%d/%m %H:%M} {_visit_mark(turn, visit, household)} {household.code} · "
                f"{household.head_name} ({names.get(household.village_id, '')})"
            )
    text = t(
        "my_week",
        today=visits_in["today"],
        today_reached=len(reached["today"]),
        week=visits_in["week"],
        week_reached=len(reached["week"]),
        lines="\n".join(lines),
    )
    return reply(
        turn,
        text[:4000],
        button(t("btn_another_visit"), "vs"),
        button(t("btn_recent_visits"), "vr"),
        edit=turn.inbound.kind == "button",
        state=keep_draft(turn),
    )


def _visit_mark(turn: Turn, visit: visits.Visit, household: Household) -> str:
    t = turn.t
    if visit.withdrawn_at is not None:
        mark = t("mark_withdrawn")
    elif visit.outcome:
        mark = f"🚫 {t(f'outcome_{visit.outcome}')}"
    elif household.reached_at is not None:
        mark = t("mark_reached")
    else:
        mark = t("mark_not_reached")
    return f"{mark}{t('mark_outside') if visit.outside else ''}"


def _todo_label(h: Household) -> str:
    return (f"📝 {h.code} · {h.head_name}" + (f" · {h.address}" if h.address else ""))[:60]
