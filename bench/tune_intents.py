"""Tune the understanding's confidence bands on the development set (tests/data/questions.tsv).

For each softmax temperature and pair of thresholds: messages answered directly (right/wrong) and
offered as buttons (the right one among them or not), weighed so that a wrong direct answer costs most;
an off-topic message must never be answered with a guide. Prints the
best settings; `bot/understand.py` holds the chosen ones. Run: `.venv/bin/python bench/tune_intents.py`.
"""

from __future__ import annotations

import csv
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import understand
from bot.content import load_content
from bot.understand import Understanding


def main() -> None:
    content = load_content(ROOT / "content", "11242")
    model = Understanding(content)
    with (ROOT / "tests" / "data" / "questions.tsv").open(encoding="utf-8", newline="") as handle:
        rows = [(r[0], r[1]) for r in csv.reader(handle, delimiter="\t") if len(r) >= 2 and r[0] != "text"]
    results = []
    for temperature, answer, offer in itertools.product(
        (2.0, 3.0, 4.0, 6.0, 8.0, 12.0), (0.5, 0.6, 0.7, 0.8), (0.1, 0.15, 0.2)
    ):
        understand.TEMPERATURE, understand.ANSWER, understand.OFFER = temperature, answer, offer
        direct_right = direct_wrong = offer_hit = offer_miss = off_topic_answered = 0
        for text, expected in rows:
            understood = model.understand(text)
            if understood.band == "answer":
                right = understood.best.id == expected
                direct_right += right
                direct_wrong += not right
                off_topic_answered += expected == "none" and understood.best.offerable
            elif understood.band == "offer":
                hit = expected in [h.id for h in understood.offers()]
                offer_hit += hit
                offer_miss += not hit
        # A wrong direct answer costs most (the person reads the wrong guide); a good offer costs one tap.
        utility = direct_right + 0.7 * offer_hit - 2 * direct_wrong - 0.5 * offer_miss
        safe = off_topic_answered == 0
        results.append((safe, utility, direct_right, direct_wrong, offer_hit, offer_miss, temperature, answer, offer))
    results.sort(reverse=True)
    print("safe  utility  direct right/wrong  offers hit/miss  temperature  answer  offer")
    for safe, utility, right, wrong, hit, miss, temperature, answer, offer in results[:15]:
        print(
            f"{safe!s:5}  {utility:7.1f}  {right:12d}/{wrong:<5d}  {hit:9d}/{miss:<5d}"
            f"  {temperature:11.1f}  {answer:6.2f}  {offer:5.2f}"
        )
    print(f"of {len(rows)} messages (the rest: 'chưa hiểu')")


if __name__ == "__main__":
    main()
