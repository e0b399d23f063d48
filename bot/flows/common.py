"""Replies several flows share: the main menu (with "resume your guide") and its 🏠 row."""

from __future__ import annotations

from bot.flows.base import Answer, Turn, button, rows
from bot.messages import Button, Outbound


def resume_button(turn: Turn) -> Button | None:
    """ "▶ Tiếp tục: <guide> (Bước k/n)" when the person left a guide half-way."""
    guide = turn.content.guides.get(str(turn.state.get("guide", "")))
    step = turn.state.get("step")
    if guide is None or not isinstance(step, int) or not 1 <= step <= guide.total:
        return None
    label = turn.t("btn_resume", title=guide.title, step=step, total=guide.total)
    return button(label[:60], f"g:{guide.id}:{step}")


def main_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    t = turn.t
    items = []
    resume = resume_button(turn)
    if resume is not None:
        items.append(resume)
    items += [
        button(t("btn_guides"), "tp"),
        button(t("btn_ask"), "ask"),
        button(t("btn_help"), "help"),
        button(t("btn_contact"), "contact"),
    ]
    return rows(*items)


def kept_state(turn: Turn) -> dict[str, object]:
    """The part of the state that outlives a detour to the menu: where the person is in a guide."""
    return {k: v for k, v in turn.state.items() if k in ("guide", "step")}


def menu_answer(turn: Turn, text: str, *, edit: bool = False) -> Answer:
    """`text` followed by the main menu."""
    return Answer([Outbound(text, main_buttons(turn), edit=edit)], kept_state(turn))


def menu_row(turn: Turn) -> tuple[Button, ...]:
    return (button(turn.t("btn_menu"), "m"),)
