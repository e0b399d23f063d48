"""Engine-level people for tests: each call is one update through the real engine and database."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from bot.app import Core
from bot.messages import Attachment, Inbound, Outbound, Recipient
from bot.store.outbox import OutboxItem

_ids = itertools.count(1_000_000)


class Person:
    """Someone on a channel; `last` holds what the bot said to their latest update."""

    def __init__(self, core: Core, chat: str, channel: str = "telegram") -> None:
        self.core, self.chat, self.channel = core, chat, channel
        self.last: list[Outbound] = []

    async def _handle(self, kind: str, **fields: Any) -> list[Outbound]:
        inbound = Inbound(self.channel, self.chat, str(next(_ids)), kind, **fields)  # type: ignore[arg-type]
        self.last = await self.core.engine.handle(inbound)
        return self.last

    async def send(self, text: str) -> list[Outbound]:
        return await self._handle("text", text=text)

    async def command(self, command: str, payload: str = "") -> list[Outbound]:
        return await self._handle("command", command=command, payload=payload, text=f"/{command} {payload}")

    async def press_data(self, data: str) -> list[Outbound]:
        return await self._handle("button", data=data, message_id="1")

    async def press(self, label: str) -> list[Outbound]:
        """Press a button of the latest reply by its exact label (or the start of it)."""
        buttons = [b for m in self.last for b in m.button_list()]
        found = next((b for b in buttons if b.label == label), None)
        found = found or next((b for b in buttons if b.label.startswith(label)), None)
        assert found is not None, f"no button {label!r}; have {[b.label for b in buttons]}"
        return await self.press_data(found.data)

    async def send_photo(self, ref: str, caption: str = "") -> list[Outbound]:
        """A photo the platform holds under `ref` (never downloaded by the bot), with an optional caption."""
        return await self._handle("unsupported", media="photo", photo_ref=ref, text=caption)

    async def upload(self, name: str, content: bytes) -> list[Outbound]:
        return await self._handle("file", file=Attachment(name, content), media="document")

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.channel, self.chat)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)

    @property
    def labels(self) -> list[str]:
        return [b.label for m in self.last for b in m.button_list()]

    def data_for(self, label: str) -> str:
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


def press_on(message: Outbound, label: str) -> str:
    return next(b.data for b in message.button_list() if b.label.startswith(label))
