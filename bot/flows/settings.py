"""How the bot addresses a person: "anh/chị" unless they choose ông, bà, bác, cô, chú, anh or chị.

Every text says "anh/chị"; the engine puts the chosen form in its place when it writes a message
(`address`). The bot always calls itself "em", so only forms for someone older or of the same
standing are offered ("em" or "bạn" would need the bot to change how it names itself).
"""

from __future__ import annotations

import re

from bot.flows.base import Answer, Router, Turn, button
from bot.flows.common import kept_state, menu_answer, reply

router = Router()
FORMS = {
    "ac": "anh/chị",
    "ong": "ông",
    "ba": "bà",
    "bac": "bác",
    "co": "cô",
    "chu": "chú",
    "anh": "anh",
    "chi": "chị",
}
KEY = "addr"
_DEFAULT = re.compile("([Aa])nh/chị")


def address(text: str, code: object) -> str:
    """`text` with "anh/chị" replaced by the person's chosen form (capitalised where it was)."""
    form = FORMS.get(code, "anh/chị") if isinstance(code, str) else "anh/chị"
    if form == "anh/chị":
        return text
    return _DEFAULT.sub(lambda m: form.capitalize() if m.group(1) == "A" else form, text)


@router.command("xungho", "settings")
@router.button("xh")
async def choose(turn: Turn) -> Answer:
    """Ask how the person wants to be addressed."""
    current = FORMS.get(str(turn.state.get(KEY, "ac")), "anh/chị")
    choices = [
        button(("✓ " if form == current else "") + form.capitalize(), f"xhs:{code}") for code, form in FORMS.items()
    ]
    return reply(turn, turn.t("address_prompt"), *choices, width=2, edit=turn.inbound.kind == "button")


@router.button("xhs")
async def chosen(turn: Turn) -> Answer:
    args = turn.args()
    code = args[0] if len(args) == 1 else ""
    if code not in FORMS:
        return menu_answer(turn, turn.t("stale_button"))
    state = {**kept_state(turn), KEY: code}
    return menu_answer(turn, turn.t("address_saved", form=FORMS[code]), state=state)
