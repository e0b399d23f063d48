"""Jobs are plain async functions of (services they need, now): tested by calling them with a fixed time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.flows.base import TaskContext, button
from bot.flows.help import need_text
from bot.messages import Attachment, Button, Outbound, Recipient
from bot.services import figures
from bot.services.digest import prepare, render_text
from bot.services.figures import Period
from bot.store import (
    Database,
    announcements,
    files,
    help_requests,
    households,
    inbox,
    job_runs,
    leases,
    members,
    outbox,
    reminders,
    subscriptions,
    villages,
)
from bot.store.outbox import BULK, OutboxItem

if TYPE_CHECKING:
    from bot.app import Core

log = logging.getLogger(__name__)
LEASE = "scheduler"
LEASE_TTL = timedelta(minutes=3)
REMINDER_AT = time(8, 0)
REMINDER_LISTED = 8
UNTAKEN = timedelta(hours=24)
UNDONE = timedelta(hours=72)
CATCH_UP = timedelta(days=7)
ANNOUNCE_BATCH = 500


async def prune_message_log(db: Database, now: datetime) -> tuple[int, int]:
    """Forget processed inbox rows after a week, finished outbox rows after 35 days (keys only), and
    files handed out by link once the link expired."""
    async with db.transaction() as conn:
        received = await inbox.prune(conn, now)
        sent = await outbox.prune(conn, now)
        linked = await files.prune(conn, now)
    log.info("pruned %d inbox and %d outbox rows, %d expired file links", received, sent, linked)
    return received, sent


async def delete_old_phone_numbers(db: Database, now: datetime) -> int:
    """Phone numbers left with help requests are deleted 90 days after the request closed."""
    async with db.transaction() as conn:
        deleted = await help_requests.delete_old_phones(conn, now)
    log.info("deleted %d phone numbers of closed help requests", deleted)
    return deleted


# ---- officers' digests, volunteers' reminders, escalations ---------------------------------------------


def _local(now: datetime, timezone: str) -> datetime:
    return now.astimezone(ZoneInfo(timezone))


def digest_due(kind: str, now: datetime, timezone: str, at: time) -> Period | None:
    """The period whose digest is due at `now`: the latest ended week (month) once its Monday (1st) `at`
    has passed in the commune's time zone. Only that one: after a long downtime the missed earlier
    digests are not sent (they are stale), nor one more than a week late (a bot started on the 20th does
    not report last month), and a period still running is never reported."""
    period = figures.last_ended(kind, now, timezone)
    send_from = datetime.combine(period.end.astimezone(ZoneInfo(timezone)).date(), at, ZoneInfo(timezone))
    return period if send_from <= now < send_from + CATCH_UP else None


def _hand_over(core: Core, items: list[OutboxItem]) -> None:
    """Wake the senders for what was just committed (as after a turn)."""
    if items and core.engine.on_outbox is not None:
        core.engine.on_outbox(items)


async def digest(core: Core, now: datetime, kind: str, *, heavy: bool = True) -> int:
    """The weekly (kind "week") or monthly digest to every officer, once per period; returns how many got it.

    Figures and chart are made in the worker (never on the loop, never inside the write transaction);
    then one transaction records each (job, period, officer) with its outbox rows.
    """
    services = core.services
    settings, content = services.settings, services.content
    period = digest_due(kind, now, settings.timezone, settings.digest_time)
    if period is None:
        return 0
    job, commune = f"digest-{kind}", content.commune.code
    async with core.db.transaction() as conn:
        officers = await members.officers(conn, commune)
        had = await job_runs.done(conn, job, period.label, [str(m.id) for m in officers])
    waiting = [m for m in officers if str(m.id) not in had]
    if not waiting:
        return 0
    target = content.commune.targets.get("target_date")
    prepared = await TaskContext(core.db, services).read(
        prepare, heavy=heavy, commune=commune, period=period, target_date=str(target) if target else None
    )
    text = render_text(prepared.figures, content, settings.timezone, settings.content_dir)
    report = ((button(content.strings("btn_digest_xlsx"), f"rx:{kind[0]}:{period.label}"),),)
    chart = Attachment(f"bieu-do-{period.label}.png", prepared.chart, is_image=True)
    sent = 0
    async with core.db.transaction() as conn:
        messages: list[Outbound] = []
        for member in waiting:
            key = f"{job}:{period.label}:{member.id}"
            if not await job_runs.claim(conn, job, period.label, str(member.id), now, key):
                continue
            to = Recipient(member.channel, member.chat_id)
            messages.append(Outbound(text, report, to=to, key=f"{key}:text"))
            caption = content.strings("digest_chart_caption")
            messages.append(Outbound(caption, attachment=chart, to=to, key=f"{key}:chart"))
            sent += 1
        items = await core.engine.notify(conn, messages, now) if messages else []
    _hand_over(core, items)
    log.info("%s %s sent to %d officers", job, period.label, sent)
    return sent


async def volunteer_reminders(core: Core, now: datetime) -> int:
    """Saturday from 08:00 (until Sunday ends): each active volunteer's households still to reach
    (priority first) and the help requests waiting for them. Nothing to say → nothing sent."""
    services = core.services
    tz = services.settings.timezone
    local = _local(now, tz)
    if local.weekday() not in (5, 6) or (local.weekday() == 5 and local.time() < REMINDER_AT):
        return 0
    saturday = (local - timedelta(days=local.weekday() - 5)).date().isoformat()
    commune, t = services.content.commune.code, services.content.strings
    sent = 0
    async with core.db.transaction() as conn:
        team = [m for m in await members.for_commune(conn, commune) if m.active and m.role == "volunteer"]
        already = await job_runs.done(conn, "reminder", saturday, [str(m.id) for m in team])
        messages: list[Outbound] = []
        for member in team:
            if str(member.id) in already:
                continue
            todo, left = await households.todo(conn, list(member.village_ids), limit=REMINDER_LISTED, offset=0)
            waiting = await help_requests.waiting_in(conn, member.village_ids, member.id)
            key = f"reminder:{saturday}:{member.id}"
            if not left and not waiting:
                await job_runs.claim(conn, "reminder", saturday, str(member.id), now, None)
                continue
            await job_runs.claim(conn, "reminder", saturday, str(member.id), now, key)
            lines = [f"• {h.code} · {h.head_name}{' (ưu tiên)' if h.priorities else ''}" for h in todo]
            text = t("reminder_volunteer", count=left, lines="\n".join(lines), waiting=len(waiting))
            buttons: tuple[tuple[Button, ...], ...] = (
                (button(t("btn_todo"), "td:1"),),
                (button(t("btn_visit"), "vs"),),
            )
            if waiting:
                buttons = ((button(t("btn_my_requests"), "hl"),), *buttons)
            messages.append(Outbound(text, buttons, to=Recipient(member.channel, member.chat_id), key=key))
            sent += 1
        items = await core.engine.notify(conn, messages, now) if messages else []
    _hand_over(core, items)
    return sent


async def escalations(core: Core, now: datetime) -> int:
    """A help request nobody took in 24 h, or not done 72 h after it was taken, goes to the officers —
    once each (the (job, request, officer) row is the record)."""
    services = core.services
    commune, t = services.content.commune.code, services.content.strings
    sent = 0
    async with core.db.transaction() as conn:
        officers = await members.officers(conn, commune)
        names = {v.id: v.name for v in await villages.for_commune(conn, commune)}
        messages: list[Outbound] = []
        late = await help_requests.overdue(conn, commune, untaken_before=now - UNTAKEN, taken_before=now - UNDONE)
        for request in late:
            if request.status == "open":
                job, text_key = "escalate-untaken", "escalate_untaken"
            else:
                job, text_key = "escalate-undone", "escalate_undone"
            helper = await members.by_id(conn, commune, request.volunteer_id) if request.volunteer_id else None
            text = t(
                text_key,
                id=request.id,
                village=names.get(request.village_id, ""),
                name=helper.label if helper else "",
                need=need_text(services.content, request.topic, request.detail),
            )
            take = ((button(t("btn_take"), f"ha:{request.id}"),),) if request.status == "open" else ()
            for officer in officers:
                key = f"{job}:{request.id}:{officer.id}"
                if await job_runs.claim(conn, job, str(request.id), str(officer.id), now, key):
                    messages.append(Outbound(text, take, to=Recipient(officer.channel, officer.chat_id), key=key))
                    sent += 1
            if job == "escalate-untaken":
                await help_requests.mark_escalated(conn, request.id, now)
        items = await core.engine.notify(conn, messages, now) if messages else []
    _hand_over(core, items)
    return sent


async def send_announcements(core: Core, now: datetime, *, batch: int = ANNOUNCE_BATCH) -> int:
    """Expand announcements whose time has come into the outbox, a batch per short transaction.

    Each row's key is the announcement and the recipient, so a restart half-way queues only the rest;
    a cancellation between batches stops the expansion. Returns the rows queued now.
    """
    services = core.services
    content = services.content
    commune = content.commune.code
    async with core.db.transaction() as conn:
        waiting = await announcements.due(conn, commune, now)
    queued = 0
    for item in waiting:
        async with core.db.transaction() as conn:
            if not await announcements.set_status(conn, item.id, "queuing"):
                continue
            people = await subscriptions.audience(conn, commune, item.village_id)
            village = await villages.get(conn, commune, item.village_id) if item.village_id else None
        text = content.strings("announcement", text=item.text, village=village.name if village else "")
        leave = ((button(content.strings("btn_unsubscribe"), "anx"),),)
        prefix = announcements.key_prefix(item.id)
        stopped = False
        for start in range(0, len(people), batch):
            async with core.db.transaction() as conn:
                current = await announcements.get(conn, commune, item.id)
                if current is None or current.status == "cancelled":
                    stopped = True
                    break
                photo = item.photo_ref or ""
                messages = [  # the photo's id is valid on its own channel only; elsewhere the text goes alone
                    Outbound(
                        text,
                        leave,
                        to=who,
                        key=f"{prefix}{who.channel}:{who.chat_id}",
                        photo_ref=photo if who.channel == item.photo_channel else "",
                    )
                    for who in people[start : start + batch]
                ]
                items = await core.engine.notify(conn, messages, now, priority=BULK)
            _hand_over(core, items)
            queued += len(items)
        if not stopped:
            async with core.db.transaction() as conn:
                await announcements.set_status(conn, item.id, "queued", total=len(people))
        log.info("announcement %d: %d recipients, %d rows queued now", item.id, len(people), queued)
    return queued


async def citizen_reminders(core: Core, now: datetime) -> int:
    """⏰ The reminders citizens asked for at guide steps, each sent once (marked in the same transaction)."""
    content = core.services.content
    sent = 0
    async with core.db.transaction() as conn:
        messages: list[Outbound] = []
        for reminder in await reminders.due(conn, now):
            guide = content.guides.get(reminder.guide_id)
            if not await reminders.mark_sent(conn, reminder.id, now) or guide is None:
                continue
            step = min(reminder.step, guide.total)
            what = guide.steps[step - 1].wait or guide.title
            text = content.strings("remind_now", what=what, title=guide.title)
            back = ((button(content.strings("btn_back_to_step"), f"g:{guide.id}:{step}"),),)
            messages.append(Outbound(text, back, to=reminder.to, key=f"remind:{reminder.id}"))
            sent += 1
        items = await core.engine.notify(conn, messages, now) if messages else []
    _hand_over(core, items)
    return sent


async def tick(core: Core, now: datetime, holder: str, *, heavy: bool = True) -> bool:
    """One pass of every scheduled job, by the one process holding the scheduler lease.

    Run every minute and at start-up, so whatever fell due while the bot was down goes out now. A job
    that fails is logged (its kind only) and retried at the next tick; the others still run.
    """
    async with core.db.transaction() as conn:
        if not await leases.take(conn, LEASE, holder, now, LEASE_TTL):
            return False
    runs: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        ("weekly digest", partial(digest, core, now, "week", heavy=heavy)),
        ("monthly digest", partial(digest, core, now, "month", heavy=heavy)),
        ("volunteer reminders", partial(volunteer_reminders, core, now)),
        ("escalations", partial(escalations, core, now)),
        ("announcements", partial(send_announcements, core, now)),
        ("citizen reminders", partial(citizen_reminders, core, now)),
    ]
    for name, job in runs:
        async with core.db.transaction() as conn:  # a long job must not outlive the lease unnoticed
            if not await leases.take(conn, LEASE, holder, core.services.clock(), LEASE_TTL):
                log.warning("scheduler: the lease went to another process; this tick stops")
                return False
        try:
            await job()
        except Exception as exc:
            log.error("scheduled job %s failed: %s", name, type(exc).__name__)
    return True
