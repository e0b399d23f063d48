"""`dvcbot demo`: the Bot API emulators (Telegram and Zalo), the web chat page, and the real service on
the sample commune.

No token and no internet: the bot talks to the emulators on 127.0.0.1 exactly as it would to Telegram
and Zalo — the same inbox, outbox and senders as `dvcbot run`. The browser page plays a citizen, the
volunteer of Thôn 1 or the commune officer (bot/sandbox/people.py seeds them, with a sample roster),
switchable in one tap, on Telegram (buttons) or on Zalo (numbered menus); each keeps its conversation.
The bot's own web server serves the signed file links Zalo gets instead of uploads.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.config import Settings
from bot.runtime import Service, build_service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.people import IDENTITIES, seed
from bot.sandbox.zalo_emulator import ZaloEmulator
from bot.sender import Limits

ZALO_PREFIX = "/zalo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    """What `dvcbot demo` runs: both emulators on one server (the page's origin) and the service."""

    emulator: BotApiEmulator
    zalo: ZaloEmulator
    service: Service

    async def stop(self) -> None:
        await self.service.stop()
        await self.zalo.stop()
        await self.emulator.stop()


async def start_demo(settings: Settings, *, port: int = 0, poll_timeout: int = 10, scheduler: bool = True) -> Demo:
    """Start the emulators, seed the sample people and start the service (the browser test uses it too)."""
    web_port = free_port()  # the bot's web server: file links for the Zalo side
    settings = settings.model_copy(update={"web_port": web_port, "public_base_url": f"http://127.0.0.1:{web_port}"})
    emulator = BotApiEmulator(port=port)
    zalo = ZaloEmulator()
    await emulator.start(extra=zalo.handlers(ZALO_PREFIX))
    zalo.attach(emulator.url, ZALO_PREFIX)
    channels: list[Channel] = [
        TelegramChannel(TelegramOptions(token=emulator.token, base_url=emulator.base_url, poll_timeout=poll_timeout)),
        ZaloChannel(ZaloOptions(token=zalo.token, base_url=zalo.base_url, poll_timeout=poll_timeout)),
    ]
    unlimited = {"telegram": Limits(per_second=0), "zalo": Limits(per_second=0)}
    service = await build_service(settings, lambda _: channels, limits=unlimited, scheduler=scheduler)
    await seed(service.core)
    await service.start()
    return Demo(emulator, zalo, service)


async def run_demo(settings: Settings, *, port: int, database_url: str) -> int:
    from bot.cli import stop_on_signals

    stop = stop_on_signals()
    demo = await start_demo(settings.model_copy(update={"database_url": database_url}), port=port)
    print(f"\n  Trợ lý DVC — bản thử ({demo.service.core.services.content.commune.name})")
    print(f"  Mở trình duyệt: {demo.emulator.url}/  (Ctrl+C để dừng)")
    roles = ", ".join(i.label for i in IDENTITIES)
    print(f"  Trên trang có nút đổi vai: {roles}, hoặc người dân mới; và nút Telegram / Zalo.\n", flush=True)
    try:
        await demo.service.wait(stop)
    finally:
        await demo.stop()
    return 0
