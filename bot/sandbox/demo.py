"""`dvcbot demo`: the Bot API emulator, its web chat page, and the real bot on the sample commune.

No token and no internet: the bot's python-telegram-bot Application talks to the emulator on
127.0.0.1 exactly as it would to Telegram, and the browser page plays the citizen.
"""

from __future__ import annotations

import logging

from bot.app import build_core
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import Settings
from bot.sandbox.emulator import BotApiEmulator

log = logging.getLogger(__name__)


async def run_demo(settings: Settings, *, port: int, database_url: str) -> int:
    from bot.cli import wait_for_stop

    settings = settings.model_copy(update={"database_url": database_url})
    emulator = BotApiEmulator(port=port)
    await emulator.start()
    core = await build_core(settings)
    channel = TelegramChannel(
        core.engine,
        TelegramOptions(
            token=emulator.token,
            base_url=emulator.base_url,
            poll_timeout=10,
            overall_max_rate=0,
        ),
    )
    await channel.start()
    print(f"\n  Trợ lý DVC — bản thử ({core.services.content.commune.name})")
    print(f"  Mở trình duyệt: {emulator.url}/  (Ctrl+C để dừng)\n", flush=True)
    try:
        await wait_for_stop()
    finally:
        await channel.stop()
        await core.close()
        await emulator.stop()
    return 0
