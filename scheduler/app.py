"""APScheduler wiring: every job in the commune's time zone.

The daily housekeeping jobs are plain cron triggers. Everything people receive (digests, reminders,
escalations) runs from one `tick` every minute — and at start-up — that works out what is due from the
clock and the `job_runs` record, not from APScheduler's memory: so after downtime what fell due goes out
at once, and several bot processes sharing a database send it once (only the lease holder ticks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.store import leases
from scheduler import jobs

if TYPE_CHECKING:
    from bot.app import Core

TICK_SECONDS = 60


def build_scheduler(core: Core) -> AsyncIOScheduler:
    """The scheduler with its jobs; the caller starts and shuts it down."""
    db, clock = core.db, core.services.clock
    tz = ZoneInfo(core.services.settings.timezone)
    scheduler = AsyncIOScheduler(
        timezone=tz, job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600, "max_instances": 1}
    )
    holder = leases.holder_id(f"scheduler-{id(scheduler):x}")

    async def prune() -> None:
        await jobs.prune_message_log(db, clock())

    async def phones() -> None:
        await jobs.delete_old_phone_numbers(db, clock())

    async def tick() -> None:
        await jobs.tick(core, clock(), holder)

    scheduler.add_job(prune, CronTrigger(hour=3, minute=17, timezone=tz), id="prune-message-log")
    scheduler.add_job(phones, CronTrigger(hour=3, minute=27, timezone=tz), id="delete-old-phone-numbers")
    scheduler.add_job(
        tick, IntervalTrigger(seconds=TICK_SECONDS, timezone=tz), id="tick", next_run_time=datetime.now(tz)
    )

    def tick_now() -> None:  # an announcement to send now: no need to wait for the minute
        job = scheduler.get_job("tick")
        if job is not None:  # a second on, so that the turn that asked for it has committed
            job.modify(next_run_time=datetime.now(tz) + timedelta(seconds=1))

    core.services.signals.connect("schedule", tick_now)
    return scheduler
