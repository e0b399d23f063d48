"""A scripted person for conversation tests, the demo and benchmarks.

Tests read like a chat transcript - ``await user.send("/start")``, ``await user.press("Đăng ký")``,
``(await user.reply()).text`` - while everything underneath goes through the real Bot API emulator,
so a passing scenario means the real PTB application produced those messages.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import cast

from bot.sandbox.emulator import BotAction, BotApiEmulator, MediaKind, SentMessage
from bot.sandbox.zalo_emulator import ZaloEmulator, ZaloMessage

__all__ = ["Reply", "User", "ZaloUser"]

_MENU_LINE = re.compile(r"^(\d{1,2})\. (.+)$")
_HINT = "Trả lời bằng số"

_MEDIA_KINDS: frozenset[str] = frozenset({"voice", "sticker", "photo", "document", "location"})


def numbered_menu(text: str) -> tuple[str, list[tuple[int, str]]]:
    """A text-only channel's message read back (the inverse of `bot.render.fit`): the text above its
    numbered menu, and the menu's lines as (number, label); no lines when it has no menu."""
    lines = text.splitlines()
    menu: list[tuple[int, str]] = []
    if lines and lines[-1].startswith(_HINT):
        lines.pop()
        while lines and (match := _MENU_LINE.match(lines[-1])):
            menu.insert(0, (int(match.group(1)), match.group(2)))
            lines.pop()
    return "\n".join(lines).rstrip(), menu


@dataclass(frozen=True, slots=True)
class Reply:
    """One bot send or edit, reduced to what a user perceives: the text and the button labels."""

    message_id: int
    kind: str  # "send" | "edit"
    text: str
    buttons: list[list[str]]
    numbers: dict[str, int] = field(default_factory=dict)  # Zalo: the number to type for each label
    photo_url: str = ""  # Zalo: a photo sent by URL

    def has_button(self, label: str) -> bool:
        return any(label == b for row in self.buttons for b in row)

    @property
    def labels(self) -> list[str]:
        """Flat list of button labels, in reading order."""
        return [b for row in self.buttons for b in row]

    @classmethod
    def from_zalo(cls, message: ZaloMessage) -> Reply:
        """A Zalo message as the person reads it: the text above its numbered menu, the menu's lines as
        buttons (one a row, numbered in `numbers`)."""
        text, menu = numbered_menu(message.text)
        return cls(0, "send", text, [[label] for _, label in menu], {label: n for n, label in menu}, message.photo_url)

    @classmethod
    def from_action(cls, action: BotAction) -> Reply:
        return cls(
            message_id=action.message_id or 0,
            kind=action.kind,
            text=action.text or "",
            buttons=[[label for label, _ in row] for row in action.buttons],
        )


class User:
    """One simulated person in a private chat; replies are everything since their last action."""

    def __init__(self, emulator: BotApiEmulator, chat_id: int, first_name: str = "Người dân") -> None:
        self.emulator = emulator
        self.chat_id = chat_id
        self.first_name = first_name
        self._mark = emulator.last_seq(chat_id)

    def _begin(self) -> None:
        self._mark = self.emulator.last_seq(self.chat_id)

    async def send(self, text: str) -> None:
        self._begin()
        self.emulator.send_text(self.chat_id, text, first_name=self.first_name)

    async def share_contact(self, phone_number: str) -> None:
        """Press the "share my phone number" keyboard button."""
        self._begin()
        self.emulator.send_contact(self.chat_id, phone_number, first_name=self.first_name)

    async def send_media(self, kind: str) -> None:
        if kind not in _MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; expected one of {sorted(_MEDIA_KINDS)}")
        self._begin()
        self.emulator.send_media(self.chat_id, cast(MediaKind, kind))

    async def send_document(
        self, file_name: str, content: bytes, *, mime_type: str | None = None, caption: str | None = None
    ) -> None:
        """Send a file (e.g. an officer's CSV/XLSX roster); the bot can download it via ``getFile``."""
        self._begin()
        self.emulator.send_document(
            self.chat_id, file_name, content, mime_type=mime_type, caption=caption, first_name=self.first_name
        )

    def _available(self) -> str:
        parts = [f"#{m.message_id}: {m.button_labels()}" for m in self.screen() if m.buttons]
        return "; ".join(parts) or "no buttons on screen"

    async def press(self, label: str, *, message_id: int | None = None) -> None:
        """Tap the button labelled exactly ``label`` on ``message_id``, else on the newest one having it."""
        screen = self.screen()
        candidates = [m for m in screen if m.message_id == message_id] if message_id is not None else screen
        for message in reversed(candidates):
            for row in message.buttons:
                for text, data in row:
                    if text != label:
                        continue
                    if data.startswith("url:"):
                        where = f"#{message.message_id}"
                        raise AssertionError(f"button {label!r} on {where} is a link ({data[4:]})")
                    self._begin()
                    self.emulator.press(self.chat_id, message.message_id, data)
                    return
        where = f"message #{message_id}" if message_id is not None else "any bot message"
        raise AssertionError(f"no button {label!r} on {where}; available: {self._available()}")

    async def press_data(self, data: str, *, message_id: int | None = None) -> None:
        """Send raw (possibly forged or stale) callback data, by default on the newest bot message."""
        if message_id is None:
            screen = self.screen()
            if not screen:
                raise AssertionError(f"chat {self.chat_id} has no bot message to press on")
            message_id = screen[-1].message_id
        self._begin()
        self.emulator.press(self.chat_id, message_id, data)

    async def replies(
        self,
        count: int = 1,
        *,
        quiet: float = 0.1,
        timeout: float = 5.0,  # noqa: ASYNC109 - overall deadline, forwarded to wait_actions
    ) -> list[Reply]:
        """Bot sends/edits since this user's last action, once ``count`` arrived and the bot went quiet."""
        actions = await self.emulator.wait_actions(self.chat_id, self._mark, count=count, quiet=quiet, timeout=timeout)
        return [Reply.from_action(a) for a in actions]

    async def reply(self) -> Reply:
        return (await self.replies())[-1]

    def screen(self) -> list[SentMessage]:
        return self.emulator.messages(self.chat_id)


class ZaloUser:
    """The same person on Zalo: no buttons, so `press` types the number of the line in the newest menu."""

    def __init__(self, emulator: ZaloEmulator, chat_id: str, display_name: str = "Người dân") -> None:
        self.emulator = emulator
        self.chat_id = chat_id
        self.display_name = display_name
        self._mark = len(emulator.messages(chat_id))

    def _begin(self) -> None:
        self._mark = len(self.emulator.messages(self.chat_id))

    async def send(self, text: str) -> None:
        self._begin()
        self.emulator.send_text(self.chat_id, text, display_name=self.display_name)

    async def send_media(self, kind: str) -> None:
        self._begin()
        if kind == "photo":
            self.emulator.send_image(self.chat_id, display_name=self.display_name)
        elif kind == "sticker":
            self.emulator.send_sticker(self.chat_id, display_name=self.display_name)
        else:
            self.emulator.send_unsupported(self.chat_id, kind, display_name=self.display_name)

    async def press(self, label: str) -> None:
        """Type the number of `label` in the newest numbered menu (only that one answers on Zalo)."""
        for message in reversed(self.emulator.messages(self.chat_id)):
            reply = Reply.from_zalo(message)
            if reply.numbers:
                if label not in reply.numbers:
                    raise AssertionError(f"no line {label!r} in the newest menu; it has {reply.labels}")
                await self.send(str(reply.numbers[label]))
                return
        raise AssertionError(f"chat {self.chat_id} has no numbered menu to answer")

    async def replies(
        self,
        count: int = 1,
        *,
        quiet: float = 0.1,
        timeout: float = 5.0,  # noqa: ASYNC109 - overall deadline
    ) -> list[Reply]:
        """Bot messages since this user's last action, once `count` arrived and the bot went quiet."""
        found = await self.emulator.wait_messages(self.chat_id, self._mark + count, timeout=timeout)
        while True:  # wait out a reply's later parts (a long text split in two, a photo after its text)
            await asyncio.sleep(quiet)
            now = self.emulator.messages(self.chat_id)
            if len(now) == len(found):
                break
            found = now
        return [Reply.from_zalo(m) for m in found[self._mark :]]

    async def reply(self) -> Reply:
        return (await self.replies())[-1]

    def screen(self) -> list[ZaloMessage]:
        return self.emulator.messages(self.chat_id)
