"""Free text: validated, checked for secrets people should never send, then understood and answered.

The understanding (`bot.understand`) gives one of three bands: a clear intent is answered directly (the
guide opens, the quick answer or the small-talk line is given); a few plausible ones are offered as
buttons ("Anh/chị muốn hỏi về:"); otherwise the person is told the bot did not understand, with the
topics and 🙋 Nhờ hỗ trợ — never a wrong guide.
"""

from __future__ import annotations

from bot.flows import guides as guide_flow
from bot.flows import help as help_flow
from bot.flows.base import Answer, Router, Turn, button, rows
from bot.flows.common import menu_answer, menu_row, reading
from bot.messages import Button, Outbound
from bot.privacy import looks_like_secret
from bot.text import fold
from bot.understand import MAX_QUERY, Hit, Understood

router = Router()


async def answer_text(turn: Turn) -> Answer:
    """Typed text that is not awaited by a flow step: a question, a greeting, a scam report…"""
    text = turn.inbound.text
    if len(text) > MAX_QUERY:
        return menu_answer(turn, turn.t("text_too_long", limit=MAX_QUERY))
    if not fold(text):
        return menu_answer(turn, turn.t("text_empty", example="đăng ký VNeID"))
    if looks_like_secret(text):
        return menu_answer(turn, turn.t("secret_warning"))
    return await reply_to(turn, turn.services.understanding.understand(text, context=reading(turn)))


async def reply_to(turn: Turn, understood: Understood) -> Answer:
    if understood.band == "answer":
        answer = await respond(turn, understood.best.id)
    elif understood.band == "offer":
        answer = offer(turn, understood.offers())
    else:
        answer = not_understood(turn)
    if understood.maybe_scam:
        warning = smalltalk_text(turn, "scam")
        if warning:
            answer = Answer([Outbound(warning), *answer.messages], answer.state)
    return answer


async def respond(turn: Turn, intent: str) -> Answer:
    """Do what an understood intent asks for."""
    guide_id, _, answer_id = intent.partition("#")
    if answer_id:
        return guide_flow.quick_answer(turn, guide_id, answer_id)
    if intent in turn.content.guides:
        return await guide_flow.open_guide(turn, intent, step=1, source="search")
    if intent == "help-request":
        return await help_flow.start(turn)
    if intent == "contact":
        return menu_answer(turn, turn.t("contact"))
    return smalltalk(turn, intent)


def smalltalk(turn: Turn, intent: str) -> Answer:
    """A one-line answer; what follows depends on the intent (a scam report gets the office's number)."""
    text = smalltalk_text(turn, intent)
    if text is None:
        return not_understood(turn)
    t = turn.t
    if intent == "greeting":
        return menu_answer(turn, text)
    extra: list[Button] = []
    if intent in ("scam", "human"):
        extra = [button(t("btn_help"), "help"), button(t("btn_contact"), "contact")]
    buttons = (*rows(*extra), menu_row(turn))
    return Answer([Outbound(text, buttons)], None)


def smalltalk_text(turn: Turn, intent: str) -> str | None:
    found = next((s for s in turn.content.smalltalk if s.id == intent), None)
    return found.text if found else None


def offer(turn: Turn, hits: list[Hit]) -> Answer:
    """The plausible intents as buttons: guides by title, quick answers by question, and the actions."""
    items = [b for b in (intent_button(turn, hit.id) for hit in hits) if b is not None]
    if not items:
        return not_understood(turn)
    buttons = (*rows(*items), menu_row(turn))
    return Answer([Outbound(turn.t("search_results"), buttons)], None)


def intent_button(turn: Turn, intent: str) -> Button | None:
    guide_id, _, answer_id = intent.partition("#")
    guide = turn.content.guides.get(guide_id)
    if guide is not None and answer_id:
        found = guide.answer(answer_id)
        return button(f"❓ {found.question}"[:60], f"qa:{guide.id}:{found.id}") if found else None
    if guide is not None:
        return button(guide.title, f"g:{guide.id}:1")
    if intent == "help-request":
        return button(turn.t("btn_help"), "help")
    if intent == "contact":
        return button(turn.t("btn_contact"), "contact")
    return None


def not_understood(turn: Turn) -> Answer:
    """ "Chưa hiểu": the topics to choose from, and a person to ask."""
    topics = [button(topic.title, f"t:{topic.id}") for topic in turn.content.topics]
    buttons = (*rows(*topics), (button(turn.t("btn_help"), "help"), *menu_row(turn)))
    return Answer([Outbound(turn.t("search_none"), buttons)], None)
