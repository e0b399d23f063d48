"""Throughput: updates/second through emulator → inbox → turn → outbox → sender → emulator, against a
bare PTB echo bot.

5,000 updates from 200 simulated citizens (a mix of /start, guide navigation and free-text search),
each citizen waiting for the reply before its next update (closed loop), all in one process and on
the same emulator as a bare python-telegram-bot echo bot run just before. Prints both rates, the ratio
(aim: ours ≥ 0.5 × echo) and the reply latency (p50/p99) seen by the citizens.
Run: `make bench` or `.venv/bin/python bench/throughput.py`.
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

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.config import Settings
from bot.runtime import build_service
from bot.sandbox.emulator import BotApiEmulator
from bot.sender import Limits

QUESTIONS = [
    "lam sao dang ky vneid",
    "khai sinh cho con",
    "nộp phí online kiểu gì",
    "quen mk vneid",
    "tra cuu ho so",
    "dk tk dinh danh muc 2",
    "tien dien",
    "xin chao",
]
GUIDES = ["vneid-register", "dvc-login", "birth-registration", "pay-online", "track-result"]


LATENCIES: list[float] = []
PAUSE = [0.0]  # seconds a citizen waits after each reply (0: as fast as the bot answers)


async def _wait_reply(emu: BotApiEmulator, chat: int, mark: int) -> None:
    sent = time.monotonic()
    [first, *_] = await emu.wait_actions(chat, mark, count=1, quiet=0, timeout=30)
    LATENCIES.append(first.at - sent)
    if PAUSE[0]:
        await asyncio.sleep(PAUSE[0])


def percentiles() -> tuple[float, float]:
    ordered = sorted(LATENCIES)
    LATENCIES.clear()
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


async def citizen_ours(emu: BotApiEmulator, chat: int, updates: int, rng: random.Random) -> None:
    """A citizen: /start, open a guide by deep link, step through it, ask questions, repeat."""
    sent = 0
    while sent < updates:
        plan: list[tuple[str, str]] = [("text", "/start"), ("text", f"/start guide-{rng.choice(GUIDES)}")]
        plan += [("next", "")] * rng.randint(2, 4) + [("prev", ""), ("text", rng.choice(QUESTIONS))]
        for kind, value in plan:
            if sent >= updates:
                return
            mark = emu.last_seq(chat)
            if kind == "text":
                emu.send_text(chat, value)
            else:
                last = emu.messages(chat)[-1]
                wanted = "Tiếp ▶" if kind == "next" else "◀ Trước"
                data = next((d for row in last.buttons for label, d in row if label == wanted), None)
                if data is None:
                    emu.send_text(chat, "/menu")
                else:
                    emu.press(chat, last.message_id, data)
            await _wait_reply(emu, chat, mark)
            sent += 1


async def citizen_text(emu: BotApiEmulator, chat: int, updates: int, rng: random.Random) -> None:
    """Text only (questions and /start): one reply per update, the same request pattern as the echo bot."""
    for i in range(updates):
        mark = emu.last_seq(chat)
        emu.send_text(chat, "/start" if i % 4 == 0 else rng.choice(QUESTIONS))
        await _wait_reply(emu, chat, mark)


async def citizen_echo(emu: BotApiEmulator, chat: int, updates: int, rng: random.Random) -> None:
    for _ in range(updates):
        mark = emu.last_seq(chat)
        emu.send_text(chat, rng.choice(QUESTIONS))
        await _wait_reply(emu, chat, mark)


async def drive(emu: BotApiEmulator, citizen: object, users: int, total: int, seed: int) -> float:
    per_user = [total // users + (1 if i < total % users else 0) for i in range(users)]
    rng = random.Random(seed)
    start = time.perf_counter()
    await asyncio.gather(
        *(
            citizen(emu, 10_000 + i, n, random.Random(rng.random()))  # type: ignore[operator]
            for i, n in enumerate(per_user)
        )
    )
    return total / (time.perf_counter() - start)


async def run_echo(emu: BotApiEmulator, users: int, total: int, seed: int) -> float:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        return await drive(emu, citizen_echo, users, total, seed)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def run_ours(
    emu: BotApiEmulator, users: int, total: int, seed: int, db_dir: Path, citizen: object = citizen_ours
) -> float:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{db_dir}/bench.db", web_port=0)  # type: ignore[call-arg]
    channel = TelegramChannel(TelegramOptions(token=emu.token, base_url=emu.base_url, poll_timeout=1))
    service = await build_service(
        settings, lambda _: [channel], limits={"telegram": Limits(per_second=0)}, scheduler=False
    )
    await service.start()
    await channel.ready.wait()
    try:
        return await drive(emu, citizen, users, total, seed)
    finally:
        await service.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        emu = BotApiEmulator()
        await emu.start()
        try:
            echo = await run_echo(emu, args.users, args.updates, args.seed)
            echo_p50, echo_p99 = percentiles()
        finally:
            await emu.stop()
        emu = BotApiEmulator()
        await emu.start()
        try:
            ours = await run_ours(emu, args.users, args.updates, args.seed, Path(tmp))
            ours_p50, ours_p99 = percentiles()
            calls = sum(n for method, n in emu.stats.items() if method not in ("getUpdates", "getMe"))
        finally:
            await emu.stop()
        for leftover in Path(tmp).glob("bench.db*"):
            leftover.unlink()
        emu = BotApiEmulator()
        await emu.start()
        try:
            text_only = await run_ours(emu, args.users, args.updates, args.seed, Path(tmp), citizen_text)
            text_p50, text_p99 = percentiles()
        finally:
            await emu.stop()
    print(f"updates: {args.updates} from {args.users} citizens (closed loop: each waits for its reply)")
    print(
        f"bare PTB echo bot                 : {echo:8.1f} updates/s  reply p50 {echo_p50:6.0f} ms"
        f"  p99 {echo_p99:6.0f} ms (1 Bot API call per update)"
    )
    print(
        f"DVC Assistant, mixed workload     : {ours:8.1f} updates/s  reply p50 {ours_p50:6.0f} ms"
        f"  p99 {ours_p99:6.0f} ms ({calls / args.updates:.2f} Bot API calls per update:"
        " a button press costs answerCallbackQuery + editMessageText)"
    )
    print(
        f"DVC Assistant, text-only workload : {text_only:8.1f} updates/s  reply p50 {text_p50:6.0f} ms"
        f"  p99 {text_p99:6.0f} ms (1 call per update, like the echo bot)"
    )
    print(f"ratio mixed / echo                : {ours / echo:8.2f} (aim ≥ 0.50)")
    print(f"ratio text-only / echo            : {text_only / echo:8.2f}")

    # The latencies above are those of a saturated bot (every citizen sends again at once). Under the
    # load of a busy commune — 20 people, each tapping every ~0.5 s, about 40 updates/s — they are the
    # pipeline's own: inbox commit and fsync, turn, outbox, sender.
    PAUSE[0] = 0.5
    light = max(1, args.updates // 5)
    with tempfile.TemporaryDirectory() as tmp:
        emu = BotApiEmulator()
        await emu.start()
        try:
            await run_echo(emu, 20, light, args.seed)
            e50, e99 = percentiles()
        finally:
            await emu.stop()
        emu = BotApiEmulator()
        await emu.start()
        try:
            await run_ours(emu, 20, light, args.seed, Path(tmp))
            o50, o99 = percentiles()
        finally:
            await emu.stop()
    print(f"at ~40 updates/s ({light} updates, 20 citizens pausing 0.5 s):")
    print(f"  echo bot reply p50 {e50:6.1f} ms  p99 {e99:6.1f} ms")
    print(f"  DVC Assistant (mixed) reply p50 {o50:6.1f} ms  p99 {o99:6.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
