"""Roster and progress speed (issue 3).

1. Import 100,000 households from CSV through the same service the bot and CLI use (aim ≤ 10 s).
2. On a database with 1,000,000 households in 3,000 villages (300 communes × 10 villages) and
   2,000,000 visits: a commune progress query and a volunteer's first to-do page, through the real
   data layer, median of repeated runs (aim ≤ 50 ms each). Also the worst case of one
   "commune" holding all 3,000 villages.

Run: `.venv/bin/python bench/roster.py` (the big database is built once under bench/results/).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.coverage import week_start
from bot.services.households import import_roster
from bot.store import Database, households, villages
from bot.text import fold

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc"]
LAST = ["An", "Bình", "Cường", "Dung", "Em", "Giang", "Hạnh", "Lan", "Nam", "Tuấn", "Yến"]
PRIOS = ["", "", "", "", "Người cao tuổi", "Hộ nghèo", "Người khuyết tật", "Dân tộc thiểu số"]


def roster_csv(n: int, village_names: list[str], rng: random.Random) -> bytes:
    lines = ["Mã hộ,Họ tên chủ hộ,Thôn,Địa chỉ,Số nhân khẩu,Ưu tiên"]
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)}"
        lines.append(
            f"HD{i:06d},{name},{rng.choice(village_names)},Xóm {i % 40},{rng.randint(1, 9)},{rng.choice(PRIOS)}"
        )
    return ("\n".join(lines) + "\n").encode()


async def bench_import(rows: int) -> None:
    rng = random.Random(1)
    names = [f"Thôn {i}" for i in range(1, 21)]
    data = roster_csv(rows, names, rng)
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(f"sqlite:///{tmp}/import.db")
        async with db.transaction() as conn:
            await villages.sync(conn, "11242", [(f"T{i:02d}", n) for i, n in enumerate(names, 1)])
        start = time.perf_counter()
        async with db.transaction() as conn:
            result = await import_roster(conn, commune="11242", data=data, filename="ds.csv", actor="bench", now=NOW)
        first = time.perf_counter() - start
        start = time.perf_counter()
        async with db.transaction() as conn:
            again = await import_roster(conn, commune="11242", data=data, filename="ds.csv", actor="bench", now=NOW)
        second = time.perf_counter() - start
        await db.close()
    assert result.added == rows and again.updated == rows, (result, again)
    print(f"import {rows:,} households from CSV ({len(data) / 1e6:.1f} MB): {first:.2f} s (aim ≤ 10 s)")
    print(f"re-import the same file (all updates):        {second:.2f} s")


def build_big(path: Path, communes: int, villages_per: int, households_n: int, visits_n: int) -> None:
    """Fill a migrated database directly with sqlite3 (setup only; not what is measured)."""
    rng = random.Random(2)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    village_ids: list[int] = []
    for c in range(communes):
        for v in range(villages_per):
            cur = conn.execute(
                "INSERT INTO villages (commune, code, name, folded) VALUES (?, ?, ?, ?)",
                (f"C{c:04d}", f"T{v:02d}", f"Thôn {v + 1}", fold(f"Thôn {v + 1}")),
            )
            village_ids.append(int(cur.lastrowid or 0))
    conn.executemany(
        "INSERT INTO members (channel, chat_id, commune, role, label, joined_at)"
        " VALUES ('telegram', ?, ?, 'volunteer', ?, ?)",
        [(str(i), f"C{i % communes:04d}", f"TNV {i}", NOW.isoformat()) for i in range(communes * 5)],
    )
    conn.executemany(
        "INSERT INTO member_villages (member_id, village_id) VALUES (?, ?)",
        [
            (i + 1, village_ids[(i % communes) * villages_per + (i // communes) * 2 % villages_per])
            for i in range(communes * 5)
        ],
    )
    batch = []
    for i in range(households_n):
        village = village_ids[i % len(village_ids)]
        commune = f"C{(village - 1) // villages_per:04d}"
        reached = (
            (NOW - timedelta(days=rng.randint(0, 60))).isoformat(timespec="seconds") if rng.random() < 0.45 else None
        )
        last = (NOW - timedelta(days=rng.randint(0, 90))).isoformat(timespec="seconds") if rng.random() < 0.7 else None
        prio = rng.random() < 0.15
        name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)}"
        batch.append(
            (
                commune,
                f"H{i:07d}",
                f"h{i:07d}",
                name,
                fold(name),
                village,
                "elderly" if prio else "",
                int(prio),
                reached,
                last,
                NOW.isoformat(),
                NOW.isoformat(),
            )
        )
        if len(batch) == 50_000:
            conn.executemany(
                "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id, priorities,"
                " priority_rank, reached_at, last_visit_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch = []
    members_n = communes * 5
    for start in range(0, visits_n, 100_000):
        conn.executemany(
            "INSERT INTO visits (household_id, member_id, request_key, skills, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    rng.randint(1, households_n),
                    rng.randint(1, members_n),
                    f"k{j}",
                    rng.randint(1, 31),
                    NOW.isoformat(),
                    NOW.isoformat(),
                )
                for j in range(start, min(start + 100_000, visits_n))
            ],
        )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def timed(fn: object, repeat: int = 30) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def bench_queries(path: Path, rebuild: bool) -> None:
    if rebuild or not path.exists():
        path.unlink(missing_ok=True)
        db = await Database.open(f"sqlite:///{path}")  # creates the schema through the real migrations
        await db.close()
        start = time.perf_counter()
        build_big(path, communes=300, villages_per=10, households_n=1_000_000, visits_n=2_000_000)
        print(f"(built the 1,000,000-household database in {time.perf_counter() - start:.0f} s)")
    db = await Database.open(f"sqlite:///{path}")
    since = week_start(NOW, "Asia/Ho_Chi_Minh")
    async with db.transaction() as conn:
        counts = await conn.execute_fetchall(
            "SELECT (SELECT count(*) FROM households), (SELECT count(*) FROM villages), (SELECT count(*) FROM visits)"
        )
        commune_villages = [v.id for v in await villages.for_commune(conn, "C0123")]
        all_villages = [int(r[0]) for r in await conn.execute_fetchall("SELECT id FROM villages")]
        member_villages = [
            int(r[0])
            for r in await conn.execute_fetchall("SELECT village_id FROM member_villages WHERE member_id = 124")
        ]
    h, v, visits = next(iter(counts))
    print(f"database: {h:,} households, {v:,} villages, {visits:,} visits")

    async def progress_commune() -> None:
        async with db.transaction() as conn:
            await households.progress(conn, commune_villages, since)

    async def progress_everything() -> None:
        async with db.transaction() as conn:
            await households.progress(conn, all_villages, since)

    async def todo_first_page() -> None:
        async with db.transaction() as conn:
            await households.todo(conn, member_villages, limit=8, offset=0)

    async def todo_commune() -> None:
        async with db.transaction() as conn:
            await households.todo(conn, commune_villages, limit=8, offset=0)

    print(f"commune progress (10 villages, ~3,300 households): {await timed(progress_commune):6.1f} ms (aim ≤ 50 ms)")
    print(f"volunteer's first to-do page (own village):        {await timed(todo_first_page):6.1f} ms (aim ≤ 50 ms)")
    print(f"officer's first to-do page (whole commune):        {await timed(todo_commune):6.1f} ms")
    print(f"worst case: progress over all 3,000 villages:      {await timed(progress_everything, 3):6.1f} ms")
    await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the 1,000,000-household database")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    await bench_import(args.rows)
    if not args.skip_big:
        results = Path(__file__).resolve().parent / "results"
        results.mkdir(exist_ok=True)
        await bench_queries(results / "province.db", args.rebuild)


if __name__ == "__main__":
    asyncio.run(main())
