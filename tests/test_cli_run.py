"""`dvcbot run` as an operator starts it: a separate process against the emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User, ZaloUser
from bot.sandbox.zalo_emulator import ZaloEmulator

ROOT = Path(__file__).resolve().parent.parent


async def start_bot(
    emulator: BotApiEmulator, tmp_path: Path, token: str, zalo: ZaloEmulator | None = None
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": emulator.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "LOG_LEVEL": "DEBUG",
        "WEB_PORT": "0",
    }
    if zalo is not None:
        env |= {"ZALO_BOT_TOKEN": zalo.token, "ZALO_API_BASE_URL": zalo.base_url}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_a_rejected_token_exits_non_zero_with_a_clear_message_and_no_token(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    token = "424242:THIS-IS-A-WRONG-TOKEN-xyz"
    bot = await start_bot(emulator, tmp_path, token)
    _, err = await asyncio.wait_for(bot.communicate(), timeout=30)
    text = err.decode()
    assert bot.returncode == 1
    assert "rejected TELEGRAM_BOT_TOKEN" in text
    assert "THIS-IS-A-WRONG-TOKEN" not in text


async def test_run_serves_both_channels_then_stops_cleanly_on_sigterm(
    emulator: BotApiEmulator, zalo_emulator: ZaloEmulator, tmp_path: Path
) -> None:
    bot = await start_bot(emulator, tmp_path, emulator.token, zalo_emulator)
    try:
        user = User(emulator, chat_id=7001)
        await user.send("/start")
        reply = await user.replies(timeout=30)
        assert "Xin chào" in reply[0].text
        on_zalo = ZaloUser(zalo_emulator, chat_id="7002")
        await on_zalo.send("/start")
        assert "☎️ Liên hệ xã" in (await on_zalo.replies(timeout=30))[0].labels  # a numbered menu
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), timeout=30)
    assert bot.returncode == 0, err.decode()[-2000:]
    text = err.decode()
    assert "DEBUG" in text and emulator.token not in text and "TEST-TOKEN" not in text
    assert zalo_emulator.token not in text
