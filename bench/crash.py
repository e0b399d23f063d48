"""Crash safety: volunteers log visits while the bot process is SIGKILLed at random and restarted.

The bot runs as a separate `python -m bot run` process against the Bot API emulator in this process
(which, like Telegram, keeps every update the bot has not confirmed). Twelve simulated volunteers each
log visits to their own households, a person at a time: they wait for each reply (up to 60 s, as
someone would who sees the bot is slow) before the next tap. Meanwhile the bot is killed with SIGKILL at
random moments (≥ 20 times) and started again at once.

Printed at the end:
  visits confirmed      the volunteer saw "✅ Đã lưu" (or "đã được lưu rồi") for the household
  visits stored         rows in `visits`
  lost                  confirmed but not stored (aim 0)
  duplicated            more than one visit stored for one household a volunteer logged once (aim 0)
  taps without a reply  updates the volunteers sent that never got an answer (aim 0)
  turns without reply   inbox rows processed whose replies are not recorded as sent after recovery
                        (aim 0; "unknown" ones went out but their answer was lost)
  messages sent twice   a message followed by an identical copy (the in-flight-at-crash case, README)

Run: `.venv/bin/python bench/crash.py [--kills 20] [--volunteers 12] [--visits 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bot.app import build_core
from bot.config import Settings
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User
from bot.store import invites, villages

ROOT = Path(__file__).resolve().parent.parent
SKILLS = ("☐ Tài khoản mức 2 đã kích hoạt", "☐ Đăng nhập được Cổng DVC", "☐ Đã nộp hoặc tra cứu hồ sơ trực tuyến")
WAIT = 60.0
HOUSEHOLDS_FACTOR = 4  # households seeded per volunteer, as a multiple of --visits


class Stats:
    def __init__(self) -> None:
        self.confirmed: set[tuple[int, str]] = set()
        self.no_reply = 0
        self.taps = 0


async def seed(db_url: str, volunteers: int, per_volunteer: int) -> list[str]:
    """The commune's roster and one invite code per volunteer (each with its own village)."""
    settings = Settings(_env_file=None, database_url=db_url)  # type: ignore[call-arg]
    core = await build_core(settings)
    codes = []
    try:
        async with core.db.transaction() as conn:
            await villages.sync(conn, "11242", [(f"B{v:02d}", f"Bench {v:02d}") for v in range(volunteers)])
            ids = {v.name: v.id for v in await villages.for_commune(conn, "11242")}
            now = core.services.clock()
            stamp = now.isoformat(timespec="seconds")
            for v in range(volunteers):
                for h in range(per_volunteer):
                    code = f"C{v:02d}{h:02d}"
                    await conn.execute(
                        "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id,"
                        " created_at, updated_at) VALUES ('11242', ?, ?, ?, ?, ?, ?, ?)",
                        (code, code.lower(), f"Hộ {code}", f"ho {code.lower()}", ids[f"Bench {v:02d}"], stamp, stamp),
                    )
                _, secret = await invites.create(
                    conn,
                    commune="11242",
                    role="volunteer",
                    label=f"TNV {v:02d}",
                    village_ids=[ids[f"Bench {v:02d}"]],
                    created_by=None,
                    now=now,
                )
                codes.append(secret)
    finally:
        await core.close()
    return codes


class Bot:
    """The bot process, started and killed at will."""

    def __init__(self, emulator: BotApiEmulator, db_url: str, workdir: Path) -> None:
        self.env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": emulator.token,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": db_url,
            "WEB_PORT": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.workdir = workdir
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
            self.kills += 1

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), timeout=20)
            if self.process.returncode is None:
                await self.kill()


async def step(user: User, stats: Stats, action: object) -> list[str]:
    """One tap or message, then wait (like a patient person) for the bot's answer."""
    stats.taps += 1
    await action  # type: ignore[misc]
    try:
        replies = await user.replies(timeout=WAIT, quiet=0.2)
    except TimeoutError:
        stats.no_reply += 1
        return []
    return [r.text for r in replies]


async def volunteer(
    emulator: BotApiEmulator, index: int, code: str, visits: int, stats: Stats, killing: asyncio.Event
) -> None:
    """At least `visits` visits, and more while the bot is still being killed."""
    user = User(emulator, chat_id=90_000 + index, first_name=f"TNV {index}")
    await step(user, stats, user.send(f"/join {code}"))
    for h in range(visits * HOUSEHOLDS_FACTOR):
        if h >= visits and not killing.is_set():
            break
        household = f"C{index:02d}{h:02d}"
        for _attempt in range(3):
            if await log_visit(user, household, stats):
                stats.confirmed.add((index, household))
                break


async def log_visit(user: User, household: str, stats: Stats) -> bool:
    """The whole visit flow; False when the person lost their way (then they start again)."""
    try:
        await step(user, stats, user.send("/visit"))
        await step(user, stats, user.send(household))
        await step(user, stats, user.press(next(label for label in _labels(user) if label.startswith(household))))
        for skill in SKILLS:
            await step(user, stats, user.press(skill))
        await step(user, stats, user.press("Tiếp ▶"))
        await step(user, stats, user.press("Bỏ qua ▶"))
        await step(user, stats, user.press("Bỏ qua ▶"))
        texts = await step(user, stats, user.press("✅ Xác nhận"))
    except (AssertionError, StopIteration):
        return False
    return any("Đã lưu lần hỗ trợ hộ" in t or "đã được lưu rồi" in t for t in texts)


def _labels(user: User) -> list[str]:
    return [label for m in user.screen() for row in m.buttons for label, _ in row]


async def killer(bot: Bot, kills: int, killing: asyncio.Event, rng: random.Random) -> None:
    while bot.kills < kills:
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        await bot.kill()
        await bot.start()
    killing.clear()


def analyse(db_path: Path, emulator: BotApiEmulator, stats: Stats, chats: list[int]) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    stored = conn.execute(
        "SELECT m.label, h.code, count(*) FROM visits v JOIN members m ON m.id = v.member_id"
        " JOIN households h ON h.id = v.household_id WHERE v.withdrawn_at IS NULL GROUP BY 1, 2"
    ).fetchall()
    by_key = {(int(label.split()[-1]), code): n for label, code, n in stored}
    unreplied = conn.execute(
        "SELECT count(DISTINCT i.id) FROM inbox i JOIN outbox o ON o.dedupe_key LIKE 'turn:' || i.id || ':%'"
        " WHERE i.status = 'done' AND o.status <> 'sent'"
    ).fetchone()[0]
    unknown = conn.execute("SELECT count(*) FROM outbox WHERE status = 'unknown'").fetchone()[0]
    conn.close()
    twice = 0  # a message sent again after a crash arrives right after its first copy, identical
    for chat in chats:
        sends = [(a.text, str(a.buttons)) for a in emulator.actions(chat) if a.kind == "send"]
        twice += sum(1 for first, second in itertools.pairwise(sends) if first == second)
    return {
        "visits confirmed": len(stats.confirmed),
        "visits stored": sum(by_key.values()),
        "lost": len([k for k in stats.confirmed if k not in by_key]),
        "duplicated": sum(n - 1 for n in by_key.values() if n > 1),
        "taps without a reply": stats.no_reply,
        "turns without reply": int(unreplied),
        "  of which unknown": int(unknown),
        "messages sent twice": twice,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--volunteers", type=int, default=12)
    parser.add_argument("--visits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "crash.db"
        db_url = f"sqlite:///{db_path}"
        codes = await seed(db_url, args.volunteers, args.visits * HOUSEHOLDS_FACTOR)
        emulator = BotApiEmulator()
        await emulator.start()
        bot = Bot(emulator, db_url, Path(tmp))
        await bot.start()
        stats = Stats()
        killing = asyncio.Event()
        killing.set()
        started = time.perf_counter()
        kill_task = asyncio.create_task(killer(bot, args.kills, killing, rng))
        await asyncio.gather(*(volunteer(emulator, i, c, args.visits, stats, killing) for i, c in enumerate(codes)))
        await kill_task
        await asyncio.sleep(5)  # let the last restart deliver what was pending
        await bot.stop()
        await emulator.stop()
        elapsed = time.perf_counter() - started
        figures = analyse(db_path, emulator, stats, [90_000 + i for i in range(args.volunteers)])
    print(f"{args.volunteers} volunteers, {stats.taps} taps, {bot.kills} SIGKILLs in {elapsed:.0f} s")
    for name, value in figures.items():
        print(f"{name:22s}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
