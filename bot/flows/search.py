"""Free text: validated, checked for secrets people should never send, then answered by search."""

from __future__ import annotations

from bot.flows.base import Answer, Router, Turn, button, rows
from bot.flows.common import menu_answer, menu_row
from bot.messages import Outbound
from bot.privacy import looks_like_secret
from bot.search import MAX_QUERY, Hit, fold

router = Router()


async def answer_text(turn: Turn) -> Answer:
    """Best 1–3 guides as buttons; "not understood" with the menu and contact when nothing fits."""
    text = turn.inbound.text
    if len(text) > MAX_QUERY:
        return menu_answer(turn, turn.t("text_too_long", limit=MAX_QUERY))
    if not fold(text):
        return menu_answer(turn, turn.t("text_empty", example="đăng ký VNeID"))
    if looks_like_secret(text):
        return menu_answer(turn, turn.t("secret_warning"))
    hits = turn.services.search.search(text)
    if not hits:
        return menu_answer(turn, turn.t("search_none"))
    return offer(turn, hits)


def offer(turn: Turn, hits: list[Hit]) -> Answer:
    """The search hits as buttons: guides by title, and the help and contact actions."""
    items = []
    for hit in hits:
        if hit.id in turn.content.guides:
            items.append(button(turn.content.guides[hit.id].title, f"g:{hit.id}:1"))
        elif hit.id == "help-request":
            items.append(button(turn.t("btn_help"), "help"))
        elif hit.id == "contact":
            items.append(button(turn.t("btn_contact"), "contact"))
    buttons = (*rows(*items), menu_row(turn))
    return Answer([Outbound(turn.t("search_results"), buttons)], None)
