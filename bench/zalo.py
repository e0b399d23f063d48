"""Zalo: how fast the bot answers on the Zalo channel, long polling against webhook.

Zalo's getUpdates hands out ONE update per call and has no offset, so in polling mode every message
costs a round trip before the next can be fetched; the webhook pushes each update and answers 200 once
stored. 100 simulated people each send 20 messages (typed questions and menu numbers), each waiting
for the answer before the next (closed loop), through the real Zalo channel, inbox, engine, outbox and
sender against the local Zalo emulator. Prints messages/second and reply latency p50/p99 per mode.
Run: `.venv/bin/python bench/zalo.py` (on demand, not in CI).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.zalo import ZaloChannel, ZaloOptions
from bot.config import Settings
from bot.runtime import Service, build_service
from bot.sandbox.demo import free_port
from bot.sandbox.zalo_emulator import ZaloEmulator
from bot.sender import Limits

TYPED = ["lam sao dang ky vneid", "khai sinh cho con", "quen mk vneid", "tra cuu ho so", "/menu", "4", "1", "2"]


async def person(emu: ZaloEmulator, chat: str, count: int, latencies: list[float]) -> None:
    rng = random.Random(chat)
    for i in range(count):
        before = len(emu.messages(chat))
        sent = time.monotonic()
        emu.send_text(chat, "/menu" if i == 0 else rng.choice(TYPED))
        arrived = await emu.wait_messages(chat, before + 1, timeout=60)
        latencies.append(arrived[before].at - sent)


async def run(mode: str, people: int, each: int, root: Path) -> tuple[float, float, float]:
    emu = ZaloEmulator()
    await emu.start()
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{root}/zalo-{mode}.db",
        web_port=port,
        log_level="WARNING",
    )
    webhook = (
        {"webhook_url": f"http://127.0.0.1:{port}/zalo", "webhook_secret": "bench-secret"} if mode == "webhook" else {}
    )
    channel = ZaloChannel(ZaloOptions(token=emu.token, base_url=emu.base_url, poll_timeout=5, **webhook))  # type: ignore[arg-type]
    service: Service = await build_service(
        settings, lambda _: [channel], limits={"zalo": Limits(per_second=0)}, scheduler=False
    )
    await service.start()
    await asyncio.wait_for(channel.ready.wait(), timeout=10)
    latencies: list[float] = []
    started = time.monotonic()
    await asyncio.gather(*(person(emu, f"b{i}", each, latencies) for i in range(people)))
    elapsed = time.monotonic() - started
    await service.stop()
    await emu.stop()
    ordered = sorted(latencies)
    return len(ordered) / elapsed, ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--each", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("polling", "webhook"):
            rate, p50, p99 = await run(mode, args.people, args.each, Path(tmp))
            total = args.people * args.each
            print(f"{mode:8s} {total} messages: {rate:6.1f}/s, reply p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
