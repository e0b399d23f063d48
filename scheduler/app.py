"""APScheduler wiring: every job in the commune's time zone, coalesced, caught up after downtime."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.store import Database
from scheduler import jobs


def build_scheduler(db: Database, timezone: str, clock: Callable[[], datetime]) -> AsyncIOScheduler:
    """The scheduler with its jobs; the caller starts and shuts it down."""
    tz = ZoneInfo(timezone)
    scheduler = AsyncIOScheduler(
        timezone=tz, job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600, "max_instances": 1}
    )

    async def prune() -> None:
        await jobs.prune_message_log(db, clock())

    async def phones() -> None:
        await jobs.delete_old_phone_numbers(db, clock())

    scheduler.add_job(prune, CronTrigger(hour=3, minute=17, timezone=tz), id="prune-message-log")
    scheduler.add_job(phones, CronTrigger(hour=3, minute=27, timezone=tz), id="delete-old-phone-numbers")
    return scheduler
