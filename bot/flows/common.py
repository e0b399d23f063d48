"""Replies several flows share: the main menu (with "resume your guide") and its 🏠 row."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.flows.base import Answer, Turn, button, rows
from bot.messages import Button, Outbound


def resume_button(turn: Turn) -> Button | None:
    """ "▶ Tiếp tục: <guide> (Bước k/n)" when the person left a guide half-way."""
    guide = turn.content.guides.get(str(turn.state.get("guide", "")))
    step = turn.state.get("step")
    if guide is None or not isinstance(step, int) or not 1 <= step <= guide.total:
        return None
    shown = guide.steps[step - 1]
    label = turn.t("btn_resume", title=guide.title, step=shown.position, total=shown.total)
    return button(label[:60], f"g:{guide.id}:{step}")


def main_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    """The citizen menu, with the team's own work first for volunteers and officers."""
    t = turn.t
    work: list[Button] = []
    if turn.can("visit.log"):
        work.append(button(t("btn_visit"), "vs"))
    if turn.can("todo.view"):
        work.append(button(t("btn_todo"), "td:1"))
    if turn.can("progress.view"):
        work.append(button(t("btn_progress"), "pg"))
    if turn.can("team.manage"):
        work.append(button(t("btn_manage"), "mg"))
    items = []
    resume = resume_button(turn)
    if resume is not None:
        items.append(resume)
    items += [
        button(t("btn_guides"), "tp"),
        button(t("btn_ask"), "ask"),
        button(t("btn_help"), "help"),
        button(t("btn_contact"), "contact"),
        button(t("btn_announcements"), "an"),
    ]
    return (*rows(*work), *rows(*items))


def kept_state(turn: Turn) -> dict[str, object]:
    """The part of the state that outlives a detour to the menu: where the person is in a guide, the
    guide a quick answer was about, and a visit being logged (📝 offers to resume it)."""
    return {k: v for k, v in turn.state.items() if k in ("guide", "step", "trail", "about", "visit")}


def reading(turn: Turn) -> str | None:
    """The guide the person's last questions were about: a follow-up ("mất bao lâu?") is about it."""
    for key in ("about", "guide"):
        value = turn.state.get(key)
        if isinstance(value, str) and value in turn.content.guides:
            return value
    return None


def menu_answer(turn: Turn, text: str, *, edit: bool = False, state: dict[str, Any] | None = None) -> Answer:
    """`text` followed by the main menu; the state is `state` if given, else only the guide position."""
    return Answer([Outbound(text, main_buttons(turn), edit=edit)], kept_state(turn) if state is None else state)


def menu_row(turn: Turn) -> tuple[Button, ...]:
    return (button(turn.t("btn_menu"), "m"),)


def reply(
    turn: Turn,
    text: str,
    *buttons: Button,
    edit: bool = False,
    state: dict[str, object] | None = None,
    width: int = 1,
    footer: tuple[Button, ...] = (),
) -> Answer:
    """`text` with the given buttons (one per row by default), an optional footer row, then 🏠 Menu."""
    extra = (footer,) if footer else ()
    return Answer([Outbound(text, (*rows(*buttons, width=width), *extra, menu_row(turn)), edit=edit)], state)


def noted(answer: Answer, note: str) -> Answer:
    """The same screen again under a short note ("that button was old", "one photo only"): no dead end."""
    first, *rest = answer.messages
    return Answer([replace(first, text=f"{note}\n\n{first.text}"), *rest], answer.state)


def star_row(prefix: str) -> tuple[Button, ...]:
    """1–5 ★ in one row; a press sends "<prefix>:<stars>"."""
    return tuple(button("⭐" if n == 1 else f"{n} ⭐", f"{prefix}:{n}") for n in range(1, 6))


def pager(prefix: str, page: int, pages: int) -> tuple[Button, ...]:
    """◀ / ▶ buttons for page `page` of `pages`; data is "<prefix>:<page>"."""
    nav = []
    if page > 1:
        nav.append(button("◀ Trang trước", f"{prefix}:{page - 1}"))
    if page < pages:
        nav.append(button("Trang sau ▶", f"{prefix}:{page + 1}"))
    return tuple(nav)


def tick(label: str, on: bool) -> str:
    """A toggle button's label: ☑ chosen, ☐ not."""
    return f"{'☑' if on else '☐'} {label}"
