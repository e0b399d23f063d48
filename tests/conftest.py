"""Shared fixtures: a real SQLite file per test, a fixed clock, the content, the core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import Core, build_core
from bot.config import REPO_CONTENT_DIR, Settings
from bot.sandbox.emulator import BotApiEmulator


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
