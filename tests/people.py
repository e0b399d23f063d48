"""Engine-level people for tests: each call is one update through the real engine and database.

A person is on Telegram or on Zalo (`Person.default_channel`, set per test by the `messenger`
fixture). On Zalo there are no buttons: what the person sees is a numbered menu in the text, and
pressing a button means typing its number — which is what `press`, `press_data` and `press_on` do
there, so one scenario checks both channels.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from typing import Any

from bot.app import Core
from bot.messages import Attachment, Inbound, Outbound, Recipient
from bot.render import MENU_KEY
from bot.sandbox.pilot import numbered_menu
from bot.store import sessions
from bot.store.outbox import OutboxItem

_ids = itertools.count(1_000_000)
# Entries of the main menu and the officers' menu: on Zalo, reached by opening those menus first.
NAVIGATION = {
    "vs",
    "td",
    "pg",
    "mg",
    "tp",
    "ask",
    "help",
    "contact",
    "an",
    "tl",
    "ir",
    "ih",
    "ex",
    "exh",
    "rp",
    "os",
    "qr",
    "ao",
}


def numbered_lines(message: Outbound) -> list[tuple[int, str]]:
    """The numbered menu at the end of a text-only message: (number, label) in order."""
    return numbered_menu(message.text)[1]


def _pick(options: list[tuple[Any, str]], label: str) -> Any:
    found = next((key for key, shown in options if shown == label), None)
    if found is None:
        found = next((key for key, shown in options if shown.startswith(label)), None)
    assert found is not None, f"no button {label!r}; have {[shown for _, shown in options]}"
    return found


class Person:
    """Someone on a channel; `last` holds what the bot said to their latest update."""

    default_channel = "telegram"

    def __init__(self, core: Core, chat: str, channel: str | None = None) -> None:
        self.core, self.chat = core, chat
        self.channel = channel or Person.default_channel
        self.last: list[Outbound] = []
        self.menu: list[str] = []  # Zalo: the button data behind the numbers the person last saw

    @property
    def numbered(self) -> bool:
        """True where buttons are a numbered menu (Zalo)."""
        return not self.core.engine.caps_for(self.channel).inline_buttons

    async def _handle(self, kind: str, **fields: Any) -> list[Outbound]:
        inbound = Inbound(self.channel, self.chat, str(next(_ids)), kind, **fields)  # type: ignore[arg-type]
        self.last = await self.core.engine.handle(inbound)
        if self.numbered:
            self.menu = await menu_of(self.core, self.recipient)
        return self.last

    async def send(self, text: str) -> list[Outbound]:
        return await self._handle("text", text=text)

    async def command(self, command: str, payload: str = "") -> list[Outbound]:
        return await self._handle("command", command=command, payload=payload, text=f"/{command} {payload}")

    async def press_data(self, data: str) -> list[Outbound]:
        """Press the button with this data. On Zalo: type its number in the menu the person last got;
        data on no line of that menu (an old or forged button) still reaches the engine as a press.
        "#<n>@<channel>:<chat>" (from `press_on`) is line n of the menu that chat got."""
        if data.startswith("#"):
            number, _, owner = data[1:].partition("@")
            channel, _, chat = owner.partition(":")
            if (channel, chat) == (self.channel, self.chat):
                return await self.send(number)
            menu = await menu_of(self.core, Recipient(channel, chat))  # someone else's button: forged
            data = menu[int(number) - 1]
        if self.numbered:
            menu = await menu_of(self.core, self.recipient)
            if data in menu:
                return await self.send(str(menu.index(data) + 1))
            if data.split(":")[0] in NAVIGATION:  # a Zalo person opens the menu (and the officers' one)
                await self.command("menu")
                if data not in self.menu and "mg" in self.menu:
                    await self.send(str(self.menu.index("mg") + 1))
                if data in self.menu:
                    return await self.send(str(self.menu.index(data) + 1))
        return await self._handle("button", data=data, message_id="1")

    async def press(self, label: str) -> list[Outbound]:
        """Press a button of the latest reply by its exact label (or the start of it)."""
        if self.numbered:
            number = _pick([(n, shown) for m in self.last for n, shown in numbered_lines(m)], label)
            return await self.send(str(number))
        buttons = [b for m in self.last for b in m.button_list()]
        return await self.press_data(_pick([(b.data, b.label) for b in buttons], label))

    async def send_photo(self, ref: str, caption: str = "") -> list[Outbound]:
        """A photo the platform holds under `ref` (never downloaded by the bot), with an optional caption."""
        return await self._handle("unsupported", media="photo", photo_ref=ref, text=caption)

    async def send_other(self) -> list[Outbound]:
        """Something the bot cannot read (a voice note; on Zalo also a file)."""
        return await self._handle("unsupported", media="other")

    async def upload(self, name: str, content: bytes) -> list[Outbound]:
        assert not self.numbered, "Zalo bots receive no documents: import rosters through Telegram or the CLI"
        return await self._handle("file", file=Attachment(name, content), media="document")

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.channel, self.chat)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)

    @property
    def labels(self) -> list[str]:
        if self.numbered:
            return [shown for m in self.last for _, shown in numbered_lines(m)]
        return [b.label for m in self.last for b in m.button_list()]

    @property
    def button_data(self) -> list[str]:
        """The data behind the buttons (or numbered lines) of the latest reply, in order."""
        if self.numbered:
            return self.menu
        return [b.data for m in self.last for b in m.button_list()]

    def data_for(self, label: str) -> str:
        """The data of a button in the latest reply (on Zalo: behind its number)."""
        if self.numbered:
            return self.menu[_pick([(n, shown) for m in self.last for n, shown in numbered_lines(m)], label) - 1]
        return next(b.data for m in self.last for b in m.button_list() if b.label.startswith(label))


class Mail:
    """Everything the engine wrote to the outbox, by recipient (what each person's phone would show)."""

    def __init__(self, core: Core) -> None:
        self.by: dict[Recipient, list[Outbound]] = defaultdict(list)
        core.engine.on_outbox = self._collect

    def _collect(self, items: list[OutboxItem]) -> None:
        for item in items:
            self.by[item.to].append(item.message)

    def of(self, person: Person) -> list[Outbound]:
        return self.by[person.recipient]

    def last(self, person: Person) -> Outbound:
        return self.of(person)[-1]

    def take(self, person: Person) -> list[Outbound]:
        messages, self.by[person.recipient] = self.by[person.recipient], []
        return messages


async def menu_of(core: Core, who: Recipient) -> list[str]:
    """The button data behind the numbers of the last menu `who` got (kept in their session)."""
    async with core.db.transaction() as conn:
        menu = (await sessions.load(conn, who.channel, who.chat_id)).get(MENU_KEY)
    return [str(d) for d in menu] if isinstance(menu, list) else []


async def file_in(core: Core, message: Outbound) -> Attachment:
    """The file a message brought: attached (Telegram), or behind its signed link (Zalo)."""
    if message.attachment is not None:
        return message.attachment
    found = re.search(r"/files/([A-Za-z0-9_\-]+)/", message.photo_url or message.text)
    assert found is not None, f"no file and no file link in {message.text!r}"
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT name, content, is_image FROM shared_files WHERE id = ?", (found.group(1),)
        )
    name, content, is_image = next(iter(rows))
    return Attachment(str(name), bytes(content), bool(is_image))


async def data_on(core: Core, message: Outbound) -> list[str]:
    """The data behind a received message's buttons: its own, or (Zalo) its recipient's numbered menu."""
    if message.buttons or message.to is None:
        return [b.data for b in message.button_list()]
    menu = await menu_of(core, message.to)
    return [menu[number - 1] for number, _ in numbered_lines(message)]


def labels_of(message: Outbound) -> list[str]:
    """The buttons a received message shows: its own, or the lines of its numbered menu."""
    return [b.label for b in message.button_list()] or [shown for _, shown in numbered_lines(message)]


def press_on(message: Outbound, label: str) -> str:
    """The data of a button on a message someone received; on Zalo "#<n>@<recipient>": line n of it."""
    if not message.buttons and message.to is not None and numbered_lines(message):
        number = _pick(numbered_lines(message), label)
        return f"#{number}@{message.to.channel}:{message.to.chat_id}"
    return next(b.data for b in message.button_list() if b.label.startswith(label))
