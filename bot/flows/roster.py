"""Officers import the household roster by sending a file, download a template, and export XLSX."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.flows.base import Answer, Router, TaskContext, TaskOutput, Turn, button, requires
from bot.flows.common import menu_answer, reply
from bot.flows.menu import unsupported
from bot.flows.onestop import import_onestop
from bot.messages import Attachment, Outbound
from bot.roster import OneStopFile, ParsedRoster, parse_onestop, parse_roster, template_xlsx
from bot.services.coverage import week_start
from bot.services.households import (
    add_villages,
    export_roster,
    export_village_figures,
    household_count,
    import_roster,
)
from bot.store import tasks
from bot.store.tasks import Task

router = Router()
MAX_LISTED = 15
MAX_NEW_VILLAGES = 30
SMALL_EXPORT = 5_000  # households: below this an export takes well under a second, a thread will do


@router.button("ih")
@requires("roster.import")
async def import_help(turn: Turn) -> Answer:
    """How to send the roster, with the template to download. A channel that takes no files (Zalo)
    says where the roster can be sent instead."""
    text = turn.t("import_help")
    if not turn.caps.documents:
        text = f"{text}\n\n{turn.t('import_elsewhere')}"
    return reply(turn, text, button(turn.t("btn_template"), "it"), edit=True)


@router.button("it")
@requires("roster.import")
async def template(turn: Turn) -> Answer:
    file = Attachment("mau-danh-sach-ho.xlsx", template_xlsx())
    return Answer([Outbound(turn.t("template_caption"), attachment=file)])


def prepare(file: Attachment) -> ParsedRoster | OneStopFile:
    """Parse an uploaded table before the turn takes the database lock (see `Engine.prepare`): one-stop
    figures if it has their columns, else a household roster."""
    try:
        onestop = parse_onestop(file.content, file.name)
    except Exception:  # whatever goes wrong there, the file is still read as a roster
        onestop = None
    return onestop or parse_roster(file.content, file.name)


router.file_prepare = prepare


@router.file
async def roster_file(turn: Turn) -> Answer:
    """A file sent to the bot: only officers' CSV/XLSX rosters are read; everyone else is told politely."""
    file = turn.inbound.file
    if not turn.can("roster.import"):
        return menu_answer(turn, turn.t("file_not_roster")) if turn.member else await unsupported(turn)
    if file is None:
        return menu_answer(
            turn, turn.t("file_fetch_failed" if turn.inbound.media == "fetch_failed" else "file_too_big")
        )
    parsed = turn.prepared
    if isinstance(parsed, OneStopFile):
        return await import_onestop(turn, parsed)
    if not isinstance(parsed, ParsedRoster):  # the parse failed (its worker died): never parse here, on the loop
        return menu_answer(turn, turn.t("file_unreadable"))
    result = await import_roster(
        turn.conn,
        commune=turn.commune,
        data=file.content,
        filename=file.name,
        actor=turn.actor,
        now=turn.now,
        parsed=parsed,
    )
    if result.faults:
        listed = "\n".join(f"• {f}" for f in result.faults[:MAX_LISTED])
        if len(result.faults) > MAX_LISTED:
            listed += f"\n… và {len(result.faults) - MAX_LISTED} lỗi khác."
        return menu_answer(turn, turn.t("import_faults", count=len(result.faults), lines=listed))
    if result.unknown_villages:
        names = result.unknown_villages[:MAX_NEW_VILLAGES]
        text = turn.t("import_unknown_villages", villages=", ".join(names))
        return reply(turn, text, button(turn.t("btn_add_villages"), "iv"), state={"new_villages": names})
    extra = "".join(f"\n⚠️ {w}" for w in result.warnings)
    return menu_answer(turn, turn.t("import_done", added=result.added, updated=result.updated, extra=extra))


@router.button("iv")
@requires("village.add")
async def confirm_villages(turn: Turn) -> Answer:
    """Add the villages the last import did not know (names kept in the session, never from button data)."""
    names = turn.state.get("new_villages")
    if not isinstance(names, list) or not names:
        return menu_answer(turn, turn.t("stale_button"))
    added = await add_villages(
        turn.conn,
        commune=turn.commune,
        names=[str(n) for n in names][:MAX_NEW_VILLAGES],
        actor=turn.actor,
        now=turn.now,
    )
    return menu_answer(turn, turn.t("villages_added", count=len(added), villages=", ".join(added) or "—"))


@router.command("export")
@router.button("ex")
@requires("roster.export")
async def export(turn: Turn) -> Answer:
    """The default export: figures per village, no names — built in the background."""
    return await _queue(turn, "village_export", "export_figures_queued")


@router.button("exh")
@requires("roster.export")
async def export_households_ask(turn: Turn) -> Answer:
    """The per-household list carries names, addresses and priority flags: asked for explicitly."""
    t = turn.t
    return reply(
        turn,
        t("export_households_confirm"),
        button(t("btn_export_figures"), "ex"),
        button(t("btn_export_households_yes"), "exhy"),
        edit=True,
    )


@router.button("exhy")
@requires("roster.export")
async def export_households(turn: Turn) -> Answer:
    """Households with status, last visit and volunteer; the request itself is in the audit log."""
    await turn.audit("export.request", "households", personal=True)
    return await _queue(turn, "roster_export", "export_queued")


async def _queue(turn: Turn, kind: str, said: str) -> Answer:
    await tasks.add(
        turn.conn, kind=kind, commune=turn.commune, actor=turn.actor, reply_to=turn.inbound.sender, now=turn.now
    )
    turn.services.signals.emit("tasks")
    return menu_answer(turn, turn.t(said))


@router.task("village_export")
async def export_figures(task: Task, ctx: TaskContext) -> TaskOutput:
    """Reached / total and the week's activity per village, read on a snapshot in a worker thread."""
    services = ctx.services
    tz = services.settings.timezone
    now = services.clock()
    local = now.astimezone(ZoneInfo(tz))
    data, count = await ctx.read(
        export_village_figures,
        heavy=False,
        commune=task.commune,
        commune_name=services.commune_name(task.commune),
        since=week_start(now, tz).isoformat(timespec="seconds"),
        cutoff=local.strftime("%H:%M ngày %d/%m/%Y"),
    )
    file = Attachment(f"so-lieu-theo-thon-{task.commune}-{local.date().isoformat()}.xlsx", data)
    caption = services.content.strings("export_figures_caption", count=count, name=services.commune_name(task.commune))
    return TaskOutput([Outbound(caption, attachment=file)], [("export", "village_figures", {"villages": count})])


@router.task("roster_export")
async def export_file(task: Task, ctx: TaskContext) -> TaskOutput:
    """Read the households on a read-only snapshot in a worker thread; the file goes to whoever asked."""
    services = ctx.services
    name, tz = services.commune_name(task.commune), services.settings.timezone
    size = await ctx.read(household_count, heavy=False, commune=task.commune)
    data, count = await ctx.read(
        export_roster, heavy=size > SMALL_EXPORT, commune=task.commune, commune_name=name, timezone=tz
    )
    day = services.clock().astimezone(ZoneInfo(tz)).date().isoformat()
    file = Attachment(f"danh-sach-ho-{task.commune}-{day}.xlsx", data)
    caption = services.content.strings("export_caption", count=count, name=name)
    return TaskOutput([Outbound(caption, attachment=file)], [("export", "households", {"rows": count})])
