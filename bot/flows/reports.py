"""📥 Reports for officers: the XLSX behind a digest, built in the background from the same figures."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.flows.base import Answer, Router, TaskContext, TaskOutput, Turn, button, requires
from bot.flows.common import menu_answer, reply
from bot.messages import Attachment, Outbound
from bot.services import figures
from bot.services.digest import file_name, report, title
from bot.store import tasks
from bot.store.tasks import Task
from bot.text import fold

router = Router()
KINDS = {"w": "week", "m": "month", "t": "total"}


@router.button("rp")
@requires("roster.export")
async def reports_menu(turn: Turn) -> Answer:
    """📥 Báo cáo: last week (the usual), last month, or everything so far; Excel or PDF."""
    tz = turn.services.settings.timezone
    week, month = figures.last_ended("week", turn.now, tz), figures.last_ended("month", turn.now, tz)
    t = turn.t
    choices = []
    for label, data in (
        (t("btn_report_week", number=week.number), f"w:{week.label}"),
        (t("btn_report_month", number=month.number), f"m:{month.label}"),
        (t("btn_report_total"), "t:now"),
    ):
        choices += [button(f"📥 {label} · Excel", f"rx:{data}"), button(f"📄 {label} · PDF", f"rx:{data}:pdf")]
    return reply(turn, t("report_menu"), *choices, edit=turn.inbound.kind == "button")


@router.button("rx")
@requires("roster.export")
async def digest_report(turn: Turn) -> Answer:
    """A report file: the period is checked (never one still running), the file made by the worker."""
    args = turn.args()
    pdf = args[2:] == ["pdf"]
    kind = KINDS.get(args[0]) if len(args) in (2, 3) and (len(args) == 2 or pdf) else None
    tz = turn.services.settings.timezone
    try:
        period = figures.period(kind, args[1] if kind != "total" else turn.now.isoformat(), tz) if kind else None
    except ValueError:
        period = None
    if period is None or period.end > turn.now or (kind == "total" and args[1] != "now"):
        return menu_answer(turn, turn.t("digest_report_bad"))
    await tasks.add(
        turn.conn,
        kind="digest_report",
        commune=turn.commune,
        actor=turn.actor,
        reply_to=turn.inbound.sender,
        now=turn.now,
        params={"kind": period.kind, "label": period.label, "pdf": pdf},
    )
    turn.services.signals.emit("tasks")
    return menu_answer(turn, turn.t("digest_report_queued"))


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
    period = figures.period(str(task.params.get("kind")), str(task.params.get("label")), tz)
    target = content.commune.targets.get("target_date")
    data, made = await ctx.read(
        report,
        commune=task.commune,
        commune_name=services.commune_name(task.commune),
        period=period,
        target_date=str(target) if target else None,
        timezone=tz,
        cutoff=min(services.clock(), period.end).astimezone(ZoneInfo(tz)).strftime("%H:%M ngày %d/%m/%Y"),
        pdf=bool(task.params.get("pdf")),
        targets=dict(content.commune.targets),
    )
    suffix = "pdf" if task.params.get("pdf") else "xlsx"
    file = Attachment(file_name(made, commune_slug(services.commune_name(task.commune)), suffix), data)
    caption = content.strings(
        "digest_report_caption", title=title(period, tz), name=services.commune_name(task.commune)
    )
    return TaskOutput([Outbound(caption, attachment=file)], [("export", f"report:{period.label}", {})])
