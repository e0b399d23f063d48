"""Topics, guides one step per message (edited in place), quick answers, and the 1–5 ★ rating.

Button data carries the guide and the step ("g:vneid-register:3"), so a button on an old message
still works after a restart, and a forged or outdated one is checked against the content. A step may
ask a question first: its choices jump to the step that fits the person ("g:vneid-register:6").
Quick answers ("qa:pay-online:deducted-unpaid") answer one common question of a guide directly.
"""

from __future__ import annotations

from bot.content import Guide, step_message
from bot.flows import search as search_flow
from bot.flows.base import Answer, Router, Turn, button, parse_id, rows
from bot.flows.common import kept_state, menu_answer, menu_row, reading, star_row
from bot.messages import Button, Outbound
from bot.privacy import looks_like_secret
from bot.store import guide_views, ratings

router = Router()


MAX_TRAIL = 30


def step_buttons(
    turn: Turn, guide: Guide, number: int, trail: list[int] | None = None
) -> tuple[tuple[Button, ...], ...]:
    """The step's choices, ◀ Trước (to the step the person came from) / Tiếp ▶, ✅ Xong, help, menu."""
    t = turn.t
    step = guide.steps[number - 1]
    lines: list[tuple[Button, ...]] = [(button(c.label, f"g:{guide.id}:{c.target}"),) for c in step.choices]
    nav = []
    back = trail[-2] if trail and len(trail) >= 2 else step.prev
    if back is not None:
        nav.append(button(t("btn_prev"), f"g:{guide.id}:{back}"))
    if step.next is not None:
        nav.append(button(t("btn_next"), f"g:{guide.id}:{step.next}"))
    if nav:
        lines.append(tuple(nav))
    finish = (button(t("btn_done"), f"gx:{guide.id}"),) if not step.choices else ()
    lines.append((*finish, button(t("btn_need_help"), "help")))
    if step.wait:
        lines.append((button(t("btn_remind_me"), f"rm:{guide.id}:{number}"),))
    quick = (button(t("btn_quick"), f"qal:{guide.id}"),) if guide.answers else ()
    lines.append((*quick, *menu_row(turn)))
    return tuple(lines)


async def open_guide(turn: Turn, guide_id: str, *, step: int, source: str, edit: bool = False) -> Answer:
    """Show one step of a guide and remember where the person is."""
    guide = turn.content.guides[guide_id]
    if step == 1 and source != "nav":
        await guide_views.record(
            turn.conn, guide_id=guide.id, channel=turn.inbound.channel, source=source, now=turn.now
        )
    trail = _trail(turn, guide.id, step, source)
    reply = Outbound(step_message(guide, step), step_buttons(turn, guide, step, trail), edit=edit)
    return Answer([reply], {"guide": guide.id, "step": step, "trail": trail})


def _trail(turn: Turn, guide_id: str, step: int, source: str) -> list[int]:
    """The steps the person walked through in this guide: ◀ Trước goes back the way they came, not
    into another branch where two ways meet (paid / not paid → "keep the receipt")."""
    raw = turn.state.get("trail") if turn.state.get("guide") == guide_id else None
    trail = [s for s in raw if isinstance(s, int)] if isinstance(raw, list) else []
    if len(trail) >= 2 and trail[-2] == step:  # ◀ Trước
        return trail[:-1]
    if trail and trail[-1] == step:  # the same step again (resume, a double tap)
        return trail
    if source == "nav" and trail:
        return [*trail, step][-MAX_TRAIL:]
    return [step]


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
    """Go to a step: ◀ Trước / Tiếp ▶, a choice, a guide from a topic, search results, or "resume"."""
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


def quick_answer(turn: Turn, guide_id: str, answer_id: str) -> Answer:
    """One common question of a guide, answered at once, with the way to the whole guide."""
    guide = turn.content.guides.get(guide_id)
    found = guide.answer(answer_id) if guide is not None else None
    if guide is None or found is None:
        return menu_answer(turn, turn.t("guide_unknown"))
    t = turn.t
    buttons = (
        (button(t("btn_whole_guide", title=guide.title)[:60], f"g:{guide.id}:1"),),
        (button(t("btn_other_questions"), f"qal:{guide.id}"), *menu_row(turn)),
    )
    state = {**kept_state(turn), "about": guide.id}
    return Answer([Outbound(f"❓ {found.question}\n\n{found.text}", buttons)], state)


@router.button("qa")
async def quick_answer_button(turn: Turn) -> Answer:
    args = turn.args()
    if len(args) != 2:
        return menu_answer(turn, turn.t("stale_button"))
    return quick_answer(turn, args[0], args[1])


@router.button("qal")
async def quick_answers(turn: Turn) -> Answer:
    """The quick answers of a guide, as buttons."""
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 1 else None
    if guide is None or not guide.answers:
        return menu_answer(turn, turn.t("guide_unknown"))
    items = [button(f"❓ {a.question}"[:60], f"qa:{guide.id}:{a.id}") for a in guide.answers]
    back = button(turn.t("btn_whole_guide", title=guide.title)[:60], f"g:{guide.id}:1")
    buttons = (*rows(*items), (back,), menu_row(turn))
    return Answer([Outbound(turn.t("quick_answers", title=guide.title), buttons)], None)


@router.button("gx")
async def done(turn: Turn) -> Answer:
    """✅ Xong: ask whether the guide helped, with 1–5 ★."""
    args = turn.args()
    guide = turn.content.guides.get(args[0]) if len(args) == 1 else None
    if guide is None:
        return menu_answer(turn, turn.t("guide_unknown"))
    buttons = (star_row(f"r:{guide.id}"), menu_row(turn))
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
    understood = turn.services.understanding.understand(text, context=reading(turn))
    if understood.band == "answer" and (understood.best.offerable or understood.best.id == "scam"):
        answer = await search_flow.reply_to(turn, understood)
        return Answer(answer.messages, answer.state if answer.state is not None else {})
    rating_id = turn.state.get("rating")
    if isinstance(rating_id, int):
        await ratings.add_comment(turn.conn, rating_id, turn.person, text.strip())  # the store caps its length
    return menu_answer(turn, turn.t("comment_thanks"))
