"""`dvcbot demo`: the Bot API emulator, its web chat page, and the real service on the sample commune.

No token and no internet: the bot talks to the emulator on 127.0.0.1 exactly as it would to Telegram —
the same inbox, outbox and sender as `dvcbot run`. The browser page plays a citizen, the volunteer of
Thôn 1 or the commune officer (bot/sandbox/people.py seeds them, with a sample roster), switchable in one
tap; each keeps its conversation.
"""

from __future__ import annotations

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import Settings
from bot.runtime import build_service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.people import IDENTITIES, seed
from bot.sender import Limits


async def run_demo(settings: Settings, *, port: int, database_url: str) -> int:
    from bot.cli import stop_on_signals

    settings = settings.model_copy(update={"database_url": database_url, "web_port": 0})
    stop = stop_on_signals()
    emulator = BotApiEmulator(port=port)
    await emulator.start()
    channel = TelegramChannel(TelegramOptions(token=emulator.token, base_url=emulator.base_url, poll_timeout=10))
    service = await build_service(settings, lambda _: [channel], limits={"telegram": Limits(per_second=0)})
    await seed(service.core)
    await service.start()
    print(f"\n  Trợ lý DVC — bản thử ({service.core.services.content.commune.name})")
    print(f"  Mở trình duyệt: {emulator.url}/  (Ctrl+C để dừng)")
    roles = ", ".join(i.label for i in IDENTITIES)
    print(f"  Trên trang có nút đổi vai: {roles}, hoặc người dân mới.\n", flush=True)
    try:
        await service.wait(stop)
    finally:
        await service.stop()
        await emulator.stop()
    return 0
