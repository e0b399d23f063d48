"""Announcement throughput: one announcement to N subscribers (10,000) through the Telegram emulator,
which allows 30 messages a second (a token bucket: more gets a 429 "retry after 1") and answers a
further 5 % of sends with a random 429. Prints the achieved rate against the limit (aim: ≥ 95 %), and
the messages lost and duplicated (aim: 0 and 0), read from what the emulator's chats received.

Run: `.venv/bin/python bench/announce.py` (about 6 minutes for 10,000), or `--subscribers 2000` to try.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import Settings
from bot.messages import Recipient
from bot.runtime import build_service
from bot.sandbox.emulator import BotApiEmulator
from bot.sender import Limits
from bot.store import announcements, subscriptions
from scheduler import jobs

TEXT = "Thông báo thử tải: lịch hướng dẫn cài VNeID mức 2 tại nhà văn hoá các thôn."


class Limiter:
    """The platform's side: a 30/s token bucket (bursts of one second's worth) plus random 429s."""

    def __init__(self, rate: float, random_429: float, seed: int) -> None:
        self.rate, self.random_429, self.rng = rate, random_429, random.Random(seed)
        self.tokens, self.stamp = rate, time.monotonic()
        self.over_limit = self.injected = 0
        self.first = self.last = 0.0

    def verdict(self) -> tuple[int, dict[str, Any]] | None:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        refuse = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                  "parameters": {"retry_after": 1}}  # fmt: skip
        if self.rng.random() < self.random_429:  # refused: not counted against the limit
            self.injected += 1
            return 429, refuse
        if self.tokens < 1:
            self.over_limit += 1
            return 429, refuse
        self.tokens -= 1
        self.first = self.first or now
        self.last = now
        return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=30.0, help="the platform's limit, messages/second")
    parser.add_argument("--random-429", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    chats = range(100_000, 100_000 + args.subscribers)
    limiter = Limiter(args.rate, args.random_429, args.seed)
    emu = BotApiEmulator()
    real_call = emu.call

    async def limited(method: str, params: Any, closed: asyncio.Event) -> Any:
        if method.lower() == "sendmessage":
            refused = limiter.verdict()
            if refused is not None:
                return refused
        return await real_call(method, params, closed)

    emu.call = limited  # type: ignore[method-assign]
    await emu.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp}/bench.db", web_port=0)  # type: ignore[call-arg]
        channel = TelegramChannel(TelegramOptions(token=emu.token, base_url=emu.base_url, poll_timeout=1))
        service = await build_service(
            settings, lambda _: [channel], limits={"telegram": Limits(per_second=args.rate)}, scheduler=False
        )
        core = service.core
        now = datetime.now(UTC)
        async with core.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO members (id, channel, chat_id, commune, role, label, joined_at)"
                " VALUES (1, 'telegram', '1', '11242', 'officer', 'Cán bộ', ?)",
                (now.isoformat(),),
            )
            for chat in chats:
                emu.open_chat(chat)
                await subscriptions.subscribe(conn, Recipient("telegram", str(chat)), "11242", None, now)
            await announcements.create(
                conn, commune="11242", text=TEXT, village_id=None, send_at=now, member_id=1, now=now
            )
        await service.start()
        await channel.ready.wait()
        try:
            started = time.monotonic()
            queued = await jobs.send_announcements(core, datetime.now(UTC))
            queue_time = time.monotonic() - started
            deadline = started + 3 * args.subscribers / args.rate + 60
            while time.monotonic() < deadline:
                if all(emu.messages(c) for c in chats[-50:]) and sum(1 for c in chats if emu.messages(c)) == len(chats):
                    break
                await asyncio.sleep(1)
            await asyncio.sleep(2)  # anything sent twice would arrive now
        finally:
            await service.stop()
            await emu.stop()
    copies = [sum(1 for m in emu.messages(c) if TEXT in m.text) for c in chats]
    delivered = sum(1 for n in copies if n)
    duplicates = sum(n - 1 for n in copies if n > 1)
    span = limiter.last - limiter.first
    rate = (delivered - 1) / span if span > 0 else 0.0
    print(f"subscribers {args.subscribers}, queued {queued} outbox rows in {queue_time:.1f} s")
    print(f"delivered {delivered}, lost {len(chats) - delivered}, duplicates {duplicates}")
    print(f"429s: {limiter.injected} random ({100 * limiter.injected / max(1, delivered):.1f} %), "
          f"{limiter.over_limit} over the {args.rate:g}/s limit")  # fmt: skip
    print(f"achieved {rate:.2f} messages/s = {100 * rate / args.rate:.1f} % of the limit (aim ≥ 95 %)")


if __name__ == "__main__":
    asyncio.run(main())
