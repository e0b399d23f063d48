"""Shared fixtures: a real SQLite file per test, a fixed clock, the content, the core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Core, build_core
from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.config import REPO_CONTENT_DIR, Settings
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.zalo_emulator import ZaloEmulator
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


@pytest.fixture(params=["telegram", "zalo"])
def messenger(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a scenario once per channel: the people in it are on Telegram, then on Zalo."""
    from tests.people import Person

    monkeypatch.setattr(Person, "default_channel", request.param)
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A scenario marked telegram_only is not run on Zalo (reported as deselected)."""
    dropped = [i for i in items if i.get_closest_marker("telegram_only") and "[zalo" in i.nodeid]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]


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
        public_base_url="https://bot.example.vn",  # Zalo gets files as links under it
    )


@pytest.fixture
async def core(settings: Settings, clock: Clock) -> AsyncIterator[Core]:
    core = await build_core(settings, clock=clock)
    try:
        yield core
    finally:
        await core.close()


@pytest.fixture
async def zalo_emulator() -> AsyncIterator[ZaloEmulator]:
    """The local Zalo Bot API on 127.0.0.1 (an ephemeral port)."""
    emu = ZaloEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def zalo_options(emulator: ZaloEmulator, **extra: object) -> ZaloOptions:
    """The Zalo channel pointed at the emulator, with short waits so tests stay fast."""
    fields: dict[str, object] = {"poll_timeout": 1, "connect_backoff": 0.05, "max_backoff": 0.2}
    fields.update(extra)
    return ZaloOptions(token=emulator.token, base_url=emulator.base_url, **fields)  # type: ignore[arg-type]


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
    core: Core,
    emulator: BotApiEmulator | None,
    *,
    zalo: ZaloEmulator | None = None,
    limits: Limits = FAST,
    web: WebServer | None = None,
    zalo_extra: dict[str, object] | None = None,
    **extra: object,
) -> Service:
    """The whole message path (channels, inbox, engine, outbox, senders, worker) on the emulators."""
    channels: list[Channel] = []
    if emulator is not None:
        channels.append(TelegramChannel(telegram_options(emulator, **extra)))
    if zalo is not None:
        channels.append(ZaloChannel(zalo_options(zalo, **(zalo_extra or {}))))
    service = Service(core, channels, web=web, limits={c.name: limits for c in channels}, scheduler=False)
    await service.start()
    for channel in channels:
        await asyncio.wait_for(channel.ready.wait(), timeout=10)
    return service


@pytest.fixture
async def service(emulator: BotApiEmulator, zalo_emulator: ZaloEmulator, core: Core) -> AsyncIterator[Service]:
    """Telegram and Zalo in one service, as `dvcbot run` serves both when both tokens are set."""
    service = await start_service(core, emulator, zalo=zalo_emulator)
    try:
        yield service
    finally:
        await service.stop()


async def rows(core: Core, sql: str, *params: object) -> list[tuple[Any, ...]]:
    async with core.db.transaction() as conn:
        return [tuple(r) for r in await conn.execute_fetchall(sql, params)]


async def until_rows(core: Core, sql: str, expected: list[tuple[Any, ...]], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until the query returns exactly `expected`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await rows(core, sql)) != expected:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{sql!r}: {found} after {timeout} s, expected {expected}")
        await asyncio.sleep(0.02)
