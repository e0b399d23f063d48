"""The main menu, /start (with deep links), /help, contact, help, and the polite "I only read text"."""

from __future__ import annotations

from dataclasses import replace

from bot.content import valid_payload
from bot.flows import guides
from bot.flows.base import Answer, Router, Turn, button
from bot.flows.common import menu_answer

router = Router()


@router.command("start")
async def start(turn: Turn) -> Answer:
    """Welcome and main menu; `/start guide-<id>` (a deep link or QR code) opens that guide."""
    payload = turn.inbound.payload.strip()
    if payload:
        guide_id = payload.removeprefix("guide-")
        if valid_payload(payload) and payload.startswith("guide-") and guide_id in turn.content.guides:
            return await guides.open_guide(turn, guide_id, step=1, source="link")
        return menu_answer(turn, turn.t("guide_unknown"))
    answer = menu_answer(turn, turn.t("welcome"))
    if "addr" in turn.state:
        return answer
    # The first answer offers the choice of how to be addressed (once; /xungho any time later).
    [welcome] = answer.messages
    ask = (button(turn.t("btn_address"), "xh"),)
    return Answer([replace(welcome, buttons=(*welcome.buttons, ask))], answer.state)


@router.command("menu")
@router.button("m")
async def menu(turn: Turn) -> Answer:
    """The main menu, from anywhere."""
    return menu_answer(turn, turn.t("menu"), edit=turn.inbound.kind == "button")


@router.command("help")
async def help_(turn: Turn) -> Answer:
    """How to use the bot, then the menu."""
    return menu_answer(turn, turn.t("help"))


@router.button("ask")
async def ask(turn: Turn) -> Answer:
    """Invite a typed question; any text that follows goes to search."""
    return menu_answer(turn, turn.t("ask_prompt"))


@router.button("contact")
async def contact(turn: Turn) -> Answer:
    """The one-stop office's address, hours and hotline from the commune settings."""
    return menu_answer(turn, turn.t("contact"))


async def unknown_command(turn: Turn) -> Answer:
    return menu_answer(turn, turn.t("unknown_command"))


async def unsupported(turn: Turn) -> Answer:
    """Voice notes, stickers, photos, files: say what the bot can read. On a channel that takes no files
    (Zalo), an officer — who may have tried to send the roster — is told where it can go instead."""
    text = turn.t("unsupported")
    if not turn.caps.documents and turn.can("roster.import"):
        text = f"{text}\n\n{turn.t('import_elsewhere')}"
    return menu_answer(turn, text)


async def stale_button(turn: Turn) -> Answer:
    """Unknown or forged button data: nothing changes (not even an open draft); explain and show the menu."""
    return menu_answer(turn, turn.t("stale_button"), state=turn.state)
