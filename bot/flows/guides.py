"""Topics, guides one step per message (edited in place), and the 1–5 ★ rating at ✅ Xong.

Button data carries the guide and the step ("g:vneid-register:3"), so a button on an old message
still works after a restart, and a forged or outdated one is checked against the content.
"""

from __future__ import annotations

from bot.content import Guide, step_message
from bot.flows.base import Answer, Router, Turn, button, parse_id, rows
from bot.flows.common import menu_answer, menu_row
from bot.flows.search import offer
from bot.messages import Button, Outbound
from bot.privacy import looks_like_secret
from bot.store import guide_views, ratings

router = Router()


def step_buttons(turn: Turn, guide: Guide, step: int) -> tuple[tuple[Button, ...], ...]:
    t = turn.t
    nav = []
    if step > 1:
        nav.append(button(t("btn_prev"), f"g:{guide.id}:{step - 1}"))
    if step < guide.total:
        nav.append(button(t("btn_next"), f"g:{guide.id}:{step + 1}"))
    return (
        tuple(nav),
        (button(t("btn_done"), f"gx:{guide.id}"), button(t("btn_need_help"), "help")),
        menu_row(turn),
    )


async def open_guide(turn: Turn, guide_id: str, *, step: int, source: str, edit: bool = False) -> Answer:
    """Show one step of a guide and remember where the person is."""
    guide = turn.content.guides[guide_id]
    if step == 1 and source != "nav":
        await guide_views.record(
            turn.conn, guide_id=guide.id, channel=turn.inbound.channel, source=source, now=turn.now
        )
    reply = Outbound(step_message(guide, step), step_buttons(turn, guide, step), edit=edit)
    return Answer([reply], {"guide": guide.id, "step": step})


@router.button("tp")
async def topics(turn: Turn) -> Answer:
    """The list of topics."""
    items = [button(topic.title, f"t:{topic.id}") for topic in turn.content.topics]
    buttons = (*rows(*items), menu_row(turn))
    # A new message, not an edit: the welcome above it carries the anti-scam warning and must stay.
    return Answer([Outbound(turn.t("topics"), buttons)])


@router.button("t")
async def topic(turn: Turn) -> Answer:
    """The guides of one topic."""
    args = turn.args()
    found = turn.content.topic(args[0]) if len(args) == 1 else None
    if found is None:
        return menu_answer(turn, turn.t("stale_button"))
    guides = [turn.content.guides[g] for g in found.guide_ids if g in turn.content.guides]
    items = [button(g.title, f"g:{g.id}:1") for g in guides]
    buttons = (*rows(*items), (button(turn.t("btn_topics"), "tp"), *menu_row(turn)))
    return Answer([Outbound(turn.t("topic", title=found.title), buttons, edit=True)])


@router.button("g")
async def step(turn: Turn) -> Answer:
    """Go to a step: ◀ Trước / Tiếp ▶, a guide from a topic, search results, or "resume"."""
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 2 else None
    if guide is None:
        return menu_answer(turn, turn.t("guide_unknown"))
    number = parse_id(args[1]) or 0
    source = "nav" if turn.state.get("guide") == guide.id else "menu"
    if not 1 <= number <= guide.total:
        answer = await open_guide(turn, guide.id, step=1, source=source)
        return Answer([Outbound(turn.t("guide_step_gone")), *answer.messages], answer.state)
    return await open_guide(turn, guide.id, step=number, source=source, edit=True)


@router.button("gx")
async def done(turn: Turn) -> Answer:
    """✅ Xong: ask whether the guide helped, with 1–5 ★."""
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 1 else None
    if guide is None:
        return menu_answer(turn, turn.t("guide_unknown"))
    stars = tuple(button("⭐" * n if n <= 1 else f"{n} ⭐", f"r:{guide.id}:{n}") for n in range(1, 6))
    buttons = (stars, menu_row(turn))
    return Answer([Outbound(turn.t("rate_prompt", title=guide.title), buttons, edit=True)], {})


@router.button("r")
async def rate(turn: Turn) -> Answer:
    """Store the rating (a person's later rating of the same guide replaces the earlier)."""
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 2 else None
    if guide is None or args[1] not in {"1", "2", "3", "4", "5"}:
        return menu_answer(turn, turn.t("stale_button"))
    stars = int(args[1])
    rating_id = await ratings.rate(
        turn.conn, subject_kind="guide", subject_id=guide.id, person=turn.person, stars=stars, now=turn.now
    )
    reply = Outbound(turn.t("rate_thanks", stars=stars), (menu_row(turn),), edit=True, toast="✅")
    return Answer([reply], {"await": "rating_comment", "rating": rating_id})


@router.text_for("rating_comment")
async def comment(turn: Turn) -> Answer:
    """An optional comment typed right after a rating — unless it is really a question or a secret."""
    text = turn.inbound.text
    if looks_like_secret(text):
        return menu_answer(turn, turn.t("secret_warning"))
    hits = turn.services.search.search(text)
    if hits:
        return offer(turn, hits)
    rating_id = turn.state.get("rating")
    if isinstance(rating_id, int):
        await ratings.add_comment(turn.conn, rating_id, turn.person, text.strip())  # the store caps its length
    return menu_answer(turn, turn.t("comment_thanks"))
