"""📥 Reports for officers: the XLSX behind a digest, built in the background from the same figures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.flows.base import Answer, Router, TaskContext, TaskOutput, Turn, requires
from bot.flows.common import menu_answer
from bot.messages import Attachment, Outbound
from bot.services import figures
from bot.services.digest import file_name, report, title
from bot.store import tasks
from bot.store.tasks import Task
from bot.text import fold

router = Router()
KINDS = {"w": "week", "m": "month"}


@router.button("rx")
@requires("roster.export")
async def digest_report(turn: Turn) -> Answer:
    """ "📥 Tải báo cáo XLSX" under a digest: the period is checked, the file made by the worker."""
    args = turn.args()
    kind = KINDS.get(args[0]) if len(args) == 2 else None
    try:
        period = _period(kind, args[1], turn.services.settings.timezone) if kind else None
    except ValueError:
        period = None
    if period is None or period.end > turn.now:  # forged, or a period that has not ended
        return menu_answer(turn, turn.t("digest_report_bad"))
    await tasks.add(
        turn.conn,
        kind="digest_report",
        commune=turn.commune,
        actor=turn.actor,
        reply_to=turn.inbound.sender,
        now=turn.now,
        params={"kind": period.kind, "label": period.label},
    )
    turn.services.signals.emit("tasks")
    return menu_answer(turn, turn.t("digest_report_queued"))


def _period(kind: str, label: str, timezone: str) -> figures.Period:
    return figures.week(label, timezone) if kind == "week" else figures.month(label, timezone)


def commune_slug(name: str) -> str:
    """ "Xã Nguyễn Lương Bằng" → "NguyenLuongBang" (for file names)."""
    words = fold(name).split()
    if words and words[0] in ("xa", "phuong", "dac"):
        words = words[1:] if words[0] != "dac" else words[2:]
    return "".join(w.capitalize() for w in words if w.isalnum()) or "Xa"


@router.task("digest_report")
async def digest_report_file(task: Task, ctx: TaskContext) -> TaskOutput:
    services = ctx.services
    tz, content = services.settings.timezone, services.content
    period = _period(str(task.params.get("kind")), str(task.params.get("label")), tz)
    target = content.commune.targets.get("target_date")
    data, made = await ctx.read(
        report,
        commune=task.commune,
        commune_name=content.commune.name,
        period=period,
        target_date=str(target) if target else None,
        timezone=tz,
        cutoff=services.clock().astimezone(ZoneInfo(tz)).strftime("%H:%M ngày %d/%m/%Y"),
    )
    file = Attachment(file_name(made, commune_slug(content.commune.name), "xlsx"), data)
    caption = content.strings("digest_report_caption", title=title(period, tz))
    return TaskOutput([Outbound(caption, attachment=file)], [("export", f"report:{period.label}", {})])
