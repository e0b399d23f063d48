"""Wiring: settings → content, search, database → engine. Shared by `run`, `demo`, tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Settings
from bot.content import Commune, load_content_once
from bot.engine import Engine, utc_now
from bot.flows import Router, Services, build_router
from bot.links import FileLinks
from bot.messages import TELEGRAM_CAPS, ZALO_BOT_CAPS
from bot.store import Database, files, villages
from bot.store.outbox import OutboxItem
from bot.understand import Understanding
from bot.worker import Worker


@dataclass
class Core:
    """The channel-agnostic service: one database, one engine, the background worker's tasks."""

    db: Database
    engine: Engine
    services: Services
    router: Router

    async def close(self) -> None:
        self.services.heavy.close()
        await self.db.close()

    async def run_tasks(self) -> list[OutboxItem]:
        """Run every pending background task now (tests and tools); the messages they wrote."""
        written: list[OutboxItem] = []
        worker = Worker(self.db, self.services, self.router.tasks, self.engine.notify, written.extend)
        await worker.run_pending()
        return written


async def sync_villages(db: Database, commune: Commune) -> None:
    """Add the villages of the commune settings the database lacks (never removes any)."""
    async with db.transaction() as conn:
        await villages.sync(conn, commune.code, [(v.code, v.name) for v in commune.villages])


async def file_links(db: Database, settings: Settings) -> FileLinks | None:
    """How files reach channels that cannot upload them; None until PUBLIC_BASE_URL is set."""
    if not settings.public_base_url:
        return None
    secret = settings.file_link_secret
    if secret is not None:
        key = secret.get_secret_value()
    else:
        async with db.transaction() as conn:
            key = await files.signing_key(conn)
    return FileLinks(settings.public_base_url, key.encode(), timedelta(hours=settings.file_link_hours))


async def build_core(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> Core:
    """Load content (a faulty guide is skipped, not fatal), open and migrate the database."""
    content = load_content_once(settings.content_dir, settings.commune)
    understanding = Understanding.for_content(content)
    db = await Database.open(settings.database_url)
    await sync_villages(db, content.commune)
    links = await file_links(db, settings)
    services = Services(settings=settings, content=content, understanding=understanding, clock=clock, links=links)
    router = build_router()
    engine = Engine(db, services, router, {"telegram": TELEGRAM_CAPS, "zalo": ZALO_BOT_CAPS})
    return Core(db, engine, services, router)
