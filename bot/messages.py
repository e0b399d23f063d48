"""The plain messages the core speaks: one `Inbound` in, a list of `Outbound` out.

Channels translate to and from these; flows never see a Telegram or Zalo object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InboundKind = Literal["text", "command", "button", "file", "unsupported"]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (an image or a document)."""

    name: str
    content: bytes
    is_image: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did: typed text, sent a /command, pressed a button, or sent something else."""

    channel: str
    chat_id: str
    update_id: str
    kind: InboundKind
    text: str = ""
    command: str = ""
    payload: str = ""
    data: str = ""
    message_id: str | None = None
    media: str = ""
    file: Attachment | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A button: what it says and the data it sends back (at most 64 bytes, Telegram's limit)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """One reply. `edit` asks the channel to replace the message whose button was pressed, if it can."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    attachment: Attachment | None = None
    toast: str | None = None

    def button_list(self) -> list[Button]:
        """Buttons in reading order (rows left to right, top to bottom)."""
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True, slots=True)
class ChannelCaps:
    """What a channel can show; the core adapts replies to it once, not per flow."""

    inline_buttons: bool = True
    edits: bool = True
    max_text: int = 4096


TELEGRAM_CAPS = ChannelCaps(inline_buttons=True, edits=True, max_text=4096)
TEXT_ONLY_CAPS = ChannelCaps(inline_buttons=False, edits=False, max_text=2000)
