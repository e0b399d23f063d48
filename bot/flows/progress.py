"""📊 Progress toward the one-person-per-household target, and 📋 the to-do list of unreached households."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import menu_answer, pager, reply
from bot.flows.visits import scope
from bot.services.coverage import percent, progress_line, week_start
from bot.store import households, villages
from bot.store.households import VillageProgress

router = Router()
PAGE = 8
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
    text = "\n".join([turn.t("progress_title"), *(f"• {progress_line(p)}" for p in lines)])
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
        lines.append(
            f"• {h.code} · {h.head_name} ({names.get(h.village_id, '')}) {marks} — {_last_visit(h.last_visit_at, tz)}"
        )
    buttons = [button(f"📝 {h.code} · {h.head_name}"[:60], f"vh:{h.id}") for h in items]
    edit = turn.inbound.kind == "button"
    return reply(turn, "\n".join(lines), *buttons, edit=edit, state={}, footer=pager("td", page, pages))
