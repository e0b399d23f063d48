"""🧾 One-stop figures: an officer enters the week's or month's applications (total, fully online, partly
online, by post, overdue, digitised, paid online) in one line; the digest and reports show them against
the plan's targets, labelled with who entered them and when."""

from __future__ import annotations

import re
from typing import Any

from bot.flows.base import Answer, Router, Turn, button, requires
from bot.flows.common import kept_state, menu_answer, reply
from bot.roster import OneStopFile
from bot.services import figures
from bot.store import onestop
from bot.store.onestop import FIELDS

router = Router()
DRAFT = "os"
MAX_NUMBER = 1_000_000
_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+|\d+")  # "1.234" is one thousand two hundred and thirty-four


@router.button("os")
@requires("team.manage")
async def start(turn: Turn) -> Answer:
    """Which period: the week or the month that just ended."""
    tz = turn.services.settings.timezone
    week, month = figures.last_ended("week", turn.now, tz), figures.last_ended("month", turn.now, tz)
    t = turn.t
    return reply(
        turn,
        t("onestop_period"),
        button(t("btn_report_week", number=week.number), f"osp:{week.label}"),
        button(t("btn_report_month", number=month.number), f"osp:{month.label}"),
        edit=turn.inbound.kind == "button",
    )


def _period(label: str, timezone: str) -> figures.Period | None:
    try:
        return figures.period("week" if "W" in label else "month", label, timezone)
    except ValueError:
        return None


@router.button("osp")
@requires("team.manage")
async def period_chosen(turn: Turn) -> Answer:
    args = turn.args()
    period = _period(args[0], turn.services.settings.timezone) if len(args) == 1 else None
    if period is None or period.end > turn.now:
        return menu_answer(turn, turn.t("stale_button"))
    known = await onestop.get(turn.conn, turn.commune, period.label)
    text = turn.t("onestop_ask", period=period.label)
    if known is not None:
        text += "\n" + turn.t("onestop_known", numbers=" ".join(str(getattr(known, f)) for f in FIELDS),
                              name=known.entered_by)  # fmt: skip
    state = {**kept_state(turn), DRAFT: {"period": period.label}, "await": "onestop_numbers"}
    return reply(turn, text, state=state)


def parse_numbers(text: str) -> list[int]:
    return [int(n.replace(".", "")) for n in _NUMBER.findall(text)]


@router.text_for("onestop_numbers", numbers=True)
@requires("team.manage")
async def numbers_typed(turn: Turn) -> Answer:
    draft = turn.state.get(DRAFT)
    if not isinstance(draft, dict) or not isinstance(draft.get("period"), str):
        return menu_answer(turn, turn.t("onestop_gone"))
    values = parse_numbers(turn.inbound.text[:200])
    problems = onestop.faults(values) or (["số quá lớn"] if any(v > MAX_NUMBER for v in values) else [])
    if problems:
        return reply(turn, turn.t("onestop_bad", faults="; ".join(problems)), state=turn.state)
    return _confirm(turn, {**draft, "values": values})


def _confirm(turn: Turn, draft: dict[str, Any]) -> Answer:
    t = turn.t
    values = draft["values"]
    total = values[0] or 1
    lines = [
        t(f"onestop_field_{field}") + f": {value}" + (f" ({100 * value / total:.1f} %)".replace(".", ",") if i else "")
        for i, (field, value) in enumerate(zip(FIELDS, values, strict=True))
    ]
    text = t("onestop_confirm", period=draft["period"], lines="\n".join(lines))
    state = {**kept_state(turn), DRAFT: draft}
    return reply(turn, text, button(t("btn_save"), "osy"), button(t("btn_cancel"), "osx"), state=state)


@router.button("osy")
@requires("team.manage")
async def save(turn: Turn) -> Answer:
    draft, member = turn.state.get(DRAFT), turn.member
    assert member is not None
    values = draft.get("values") if isinstance(draft, dict) else None
    if not isinstance(draft, dict) or not isinstance(values, list) or onestop.faults(values):
        return menu_answer(turn, turn.t("onestop_gone"))
    await onestop.save(turn.conn, turn.commune, str(draft["period"]), values, member.id, turn.now)
    await turn.audit("onestop.enter", f"onestop:{draft['period']}")
    return menu_answer(turn, turn.t("onestop_saved", period=draft["period"]))


@router.button("osx")
@requires("team.manage")
async def drop(turn: Turn) -> Answer:
    return menu_answer(turn, turn.t("onestop_gone"))


async def import_onestop(turn: Turn, parsed: OneStopFile) -> Answer:
    """A table of one-stop figures (one row a week or a month): every row checked, all saved or none."""
    member = turn.member
    if member is None or not turn.can("team.manage"):
        return menu_answer(turn, turn.t("file_not_roster"))
    problems = list(parsed.faults)
    rows: list[tuple[str, list[int]]] = []
    tz = turn.services.settings.timezone
    for line, label, values in parsed.rows:
        period = _period(label, tz)
        if period is None or period.end > turn.now:
            problems.append(turn.t("onestop_bad_period", line=line, period=label))
            continue
        problems += [f"dòng {line}: {fault}" for fault in onestop.faults(values)]
        if any(v > MAX_NUMBER for v in values):
            problems.append(f"dòng {line}: số quá lớn")
        rows.append((period.label, values))
    if not rows and not problems:
        problems.append(turn.t("onestop_empty_file"))
    if problems:
        listed = "\n".join(f"• {p}" for p in problems[:15])
        return menu_answer(turn, turn.t("onestop_file_faults", count=len(problems), lines=listed))
    for label, values in rows:
        await onestop.save(turn.conn, turn.commune, label, values, member.id, turn.now)
    await turn.audit("onestop.import", "onestop", periods=len(rows))
    return menu_answer(turn, turn.t("onestop_imported", count=len(rows), periods=", ".join(r[0] for r in rows)))
