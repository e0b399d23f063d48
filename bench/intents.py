"""Understanding speed (issue 7): training at start-up (aim: start-up with training < 2 s) and one
classification (aim < 5 ms), on the repository's content; plus the dev set's accuracy.

Run: `.venv/bin/python bench/intents.py`.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    started = time.perf_counter()
    from bot.content import load_content
    from bot.understand import Understanding, evaluate

    imported = time.perf_counter()
    content = load_content(ROOT / "content", "11242")
    loaded = time.perf_counter()
    understanding = Understanding(content)
    trained = time.perf_counter()
    with (ROOT / "tests" / "data" / "questions.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [(r[0], r[1]) for r in csv.reader(handle, delimiter="\t") if len(r) >= 2 and r[0] != "text"]
    timings = []
    for text, _ in rows * 3:
        begin = time.perf_counter()
        understanding.understand(text)
        timings.append(time.perf_counter() - begin)
    timings.sort()
    result = evaluate(understanding, rows)
    print(f"imports (scikit-learn, content code): {imported - started:6.2f} s")
    print(f"content loaded and rendered          : {loaded - imported:6.2f} s")
    print(
        f"training: {understanding.examples} examples, {len(understanding.intents)} intents: {trained - loaded:6.2f} s"
    )
    print(f"start-up with training (all of the above): {trained - started:.2f} s (aim < 2 s)")
    print(
        f"one classification: median {statistics.median(timings) * 1000:.2f} ms,"
        f" p99 {timings[int(len(timings) * 0.99)] * 1000:.2f} ms (aim < 5 ms), over {len(timings)} messages"
    )
    print(f"dev set top-1 accuracy: {100 * result.accuracy:.1f} % of {result.total}")


if __name__ == "__main__":
    main()
