"""Fit messages to the channel that carries them — once, here, for every flow.

Where a channel has no buttons, they become a numbered menu ("1. Tiếp ▶") and the button data is kept
in the recipient's session so that a reply "2" presses the second one. Texts longer than the channel
allows are split at paragraph, line or sentence ends (never mid-word); the buttons go on the last part.
A channel that cannot edit gets a new message instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.messages import Button, ChannelCaps, Outbound

MENU_KEY = "_menu"
MAX_MENU = 99  # a reply is one or two digits
_NUMBER = re.compile(r"^\s*(?:s[oố]\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


def fit(
    messages: Sequence[Outbound], caps: ChannelCaps, hint: str, *, after: Sequence[str] = ()
) -> tuple[list[Outbound], list[str] | None]:
    """The messages as `caps` can carry them, and the numbered menu (button data in order), if any.

    `after`: a menu the recipient still has on screen, which the new lines continue (a notification
    arriving mid-step must not change what the numbers already shown mean); the returned menu then
    includes it. Past MAX_MENU lines numbering starts again at 1.
    """
    out: list[Outbound] = []
    count = sum(len(m.button_list()) for m in messages)
    menu: list[str] = list(after) if after and len(after) + count <= MAX_MENU else []
    kept = len(menu)
    for message in messages:
        if message.ask_contact and not caps.share_contact:
            continue  # "or share your number with the button below": there is no such button here
        if caps.inline_buttons:
            out.extend(_split(message, caps))
            continue
        buttons: list[Button] = message.button_list()
        text = message.text
        if buttons:
            lines = [f"{len(menu) + i + 1}. {b.label}" for i, b in enumerate(buttons)]
            menu.extend(b.data for b in buttons)
            text = f"{text}\n\n" + "\n".join(lines) + "\n" + hint
        out.extend(_split(replace(message, text=text, buttons=(), edit=False), caps))
    return out, (menu if len(menu) > kept else None)


def numbered_choice(text: str, menu: object) -> str | None:
    """The button data a reply like "2", "2.", " 2 " or "số 2" picks from the last numbered menu."""
    match = _NUMBER.match(text)
    if match is None or not isinstance(menu, list):
        return None
    index = int(match.group(1)) - 1
    if 0 <= index < len(menu) and isinstance(menu[index], str):
        return str(menu[index])
    return None


def is_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def _split(message: Outbound, caps: ChannelCaps) -> list[Outbound]:
    limit = caps.max_caption if message.attachment is not None else caps.max_text
    if len(message.text) <= limit:
        return [message]
    first, rest = _take(message.text.strip(), limit)
    parts = [first, *split_text(rest, caps.max_text)] if rest else [first]
    out = []
    for i, part in enumerate(parts):
        out.append(
            replace(
                message,
                text=part,
                buttons=message.buttons if i == len(parts) - 1 else (),
                edit=False,
                attachment=message.attachment if i == 0 else None,
                toast=message.toast if i == 0 else None,
            )
        )
    return out


def _take(text: str, limit: int) -> tuple[str, str]:
    """The longest natural first part of `text` within `limit`, and what is left."""
    if len(text) <= limit:
        return text, ""
    window = text[: limit + 1]
    cut = limit
    for separator in ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " "):
        at = window.rfind(separator, 0, limit)
        if at >= limit // 3:
            cut = at + len(separator.rstrip()) if separator.strip() else at
            break
    return text[:cut].rstrip(), text[cut:].lstrip()


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into parts of at most `limit` characters at the most natural boundary available."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        part, rest = _take(rest, limit)
        parts.append(part)
    return parts or [""]
