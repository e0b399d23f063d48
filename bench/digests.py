"""Digest speed: the weekly figures and text for 100 communes over 1,000,000 households and 2,000,000
visits (aim: ≤ 10 s in all), and the charts, which the bot makes in its worker process.

The database is generated once into `--db` (kept for re-runs: generating takes a minute or two). The
figures come from the same `bot.services.figures.compute` the scheduler, the XLSX report and
`dvcbot digest preview` use.
Run: `.venv/bin/python bench/digests.py` (`--communes 10` for a quick look).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import REPO_CONTENT_DIR
from bot.content import load_content
from bot.services import figures
from bot.services.digest import chart_png, render_text
from bot.store import Database

VILLAGES = 10
VOLUNTEERS = 10
WEEK = "2026-W47"
TZ = "Asia/Ho_Chi_Minh"


async def generate(path: Path, communes: int, households: int, visits: int, seed: int) -> None:
    db = await Database.open(f"sqlite:///{path}")  # creates the schema
    await db.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    end = datetime(2026, 11, 23, tzinfo=UTC)
    stamp = lambda days: (end - timedelta(days=days)).isoformat(timespec="seconds")  # noqa: E731
    per_commune = households // communes
    with conn:
        for c in range(communes):
            code = f"{20000 + c}"
            for v in range(VILLAGES):
                conn.execute(
                    "INSERT INTO villages (commune, code, name, folded) VALUES (?, ?, ?, ?)",
                    (code, f"T{v}", f"Thôn {v + 1}", f"thon {v + 1}"),
                )
            first_village = conn.execute("SELECT min(id) FROM villages WHERE commune = ?", (code,)).fetchone()[0]
            for m in range(VOLUNTEERS):
                conn.execute(
                    "INSERT INTO members (channel, chat_id, commune, role, label, joined_at)"
                    " VALUES ('telegram', ?, ?, 'volunteer', ?, ?)",
                    (f"{code}{m}", code, f"Tình nguyện viên {m}", stamp(90)),
                )
            rows = []
            for h in range(per_commune):
                reached = stamp(rng.uniform(0, 60)) if rng.random() < 0.4 else None
                rows.append(
                    (code, f"H{h:06d}", f"h{h:06d}", f"Chủ hộ {h}", f"chu ho {h}", first_village + h % VILLAGES,
                     reached, stamp(0), stamp(0))
                )  # fmt: skip
            conn.executemany(
                "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id, reached_at,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        first_member = conn.execute("SELECT min(id) FROM members").fetchone()[0]
        total_households = conn.execute("SELECT count(*) FROM households").fetchone()[0]
        batch = []
        for i in range(visits):
            household = 1 + rng.randrange(total_households)
            commune_index = (household - 1) // per_commune
            member = first_member + commune_index * VOLUNTEERS + rng.randrange(VOLUNTEERS)
            when = stamp(rng.uniform(0, 60))
            batch.append((household, member, f"b{i}", rng.choice((1, 3, 7, 14)), when, when))
            if len(batch) == 100_000:
                conn.executemany(
                    "INSERT INTO visits (household_id, member_id, request_key, skills, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    batch,
                )
                batch = []
        if batch:
            conn.executemany(
                "INSERT INTO visits (household_id, member_id, request_key, skills, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )
    conn.execute("ANALYZE")
    conn.close()


async def migrate(path: Path) -> None:
    db = await Database.open(f"sqlite:///{path}")
    await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=2_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/dvcbot-bench-digests.db"))
    parser.add_argument("--charts", type=int, default=10, help="how many charts to time (each ~0.1 s)")
    args = parser.parse_args()
    if not args.db.exists():
        started = time.perf_counter()
        asyncio.run(generate(args.db, args.communes, args.households, args.visits, seed=7))
        print(f"generated {args.db} in {time.perf_counter() - started:.0f} s")
    asyncio.run(migrate(args.db))  # a database kept from an earlier run gets the newer tables
    content = load_content(REPO_CONTENT_DIR, "11242")
    period = figures.week(WEEK, TZ)
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    codes = [str(r[0]) for r in conn.execute("SELECT DISTINCT commune FROM villages ORDER BY commune")]
    counts = conn.execute("SELECT (SELECT count(*) FROM households), (SELECT count(*) FROM visits)").fetchone()
    started = time.perf_counter()
    made = [figures.compute(conn, commune=code, period=period, target_date="2026-12-31") for code in codes]
    computed = time.perf_counter() - started
    texts = [render_text(f, content, TZ, REPO_CONTENT_DIR) for f in made]
    rendered = time.perf_counter() - started
    chart_started = time.perf_counter()
    for f in made[: args.charts]:
        chart_png(f)
    per_chart = (time.perf_counter() - chart_started) / max(1, min(args.charts, len(made)))
    print(f"{len(codes)} communes, {counts[0]:,} households, {counts[1]:,} visits")
    print(f"figures {computed:.2f} s, figures + text {rendered:.2f} s for all (aim ≤ 10 s)")
    print(f"chart {per_chart:.2f} s each (in the worker process): {per_chart * len(codes):.1f} s for all")
    print(
        f"sample: {made[0].reached:,}/{made[0].total:,} reached, {made[0].visits:,} visits; text {len(texts[0])} chars"
    )


if __name__ == "__main__":
    main()
