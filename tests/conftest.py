"""Shared fixtures: a real SQLite file per test, a fixed clock, the content, the core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import REPO_CONTENT_DIR, Settings
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sender import Limits
from bot.web import WebServer


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 1, 30, tzinfo=UTC))  # Monday 08:30 in Hà Nội


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path}/dvcbot.db",
        content_dir=REPO_CONTENT_DIR,
        commune="11242",
    )


@pytest.fixture
async def core(settings: Settings, clock: Clock) -> AsyncIterator[Core]:
    core = await build_core(settings, clock=clock)
    try:
        yield core
    finally:
        await core.close()


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """The local Telegram Bot API on 127.0.0.1 (an ephemeral port)."""
    emu = BotApiEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def telegram_options(emulator: BotApiEmulator, **extra: object) -> TelegramOptions:
    """The Telegram channel pointed at the emulator, with short waits so tests stay fast."""
    fields: dict[str, object] = {"poll_timeout": 1, "connect_backoff": 0.05, "max_backoff": 0.2}
    fields.update(extra)
    return TelegramOptions(token=emulator.token, base_url=emulator.base_url, **fields)  # type: ignore[arg-type]


FAST = Limits(per_second=0, backoff=0.05, max_backoff=0.5, poll=0.2)


async def start_service(
    core: Core, emulator: BotApiEmulator, *, limits: Limits = FAST, web: WebServer | None = None, **extra: object
) -> Service:
    """The whole message path (channel, inbox, engine, outbox, sender, worker) on the emulator."""
    channel = TelegramChannel(telegram_options(emulator, **extra))
    service = Service(core, [channel], web=web, limits={"telegram": limits}, scheduler=False)
    await service.start()
    await asyncio.wait_for(channel.ready.wait(), timeout=10)
    return service


@pytest.fixture
async def service(emulator: BotApiEmulator, core: Core) -> AsyncIterator[Service]:
    service = await start_service(core, emulator)
    try:
        yield service
    finally:
        await service.stop()
