"""The plain messages the core speaks: one `Inbound` in, a list of addressed `Outbound` out.

Channels translate to and from these; flows never see a Telegram or Zalo object. An `Outbound`
without `to` answers the person who spoke; with `to` it is a notification for someone else (a
volunteer, an officer) written to the outbox in the same transaction as the turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

InboundKind = Literal["text", "command", "button", "file", "contact", "unsupported"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the bot can message: a chat on a channel."""

    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (an image or a document)."""

    name: str
    content: bytes
    is_image: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did: typed text, sent a /command, pressed a button, or sent something else.

    `callback_id` is the channel's handle for acknowledging a pressed button; `file_ref` names a file
    the channel can fetch (its content arrives in `file` once fetched, for those allowed to send one).
    A shared contact ("contact") carries its phone number in `text`.
    """

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
    callback_id: str = ""
    file_ref: str = ""
    file_name: str = ""
    file_size: int = 0
    photo_ref: str = ""  # a photo sent to the bot: the platform's id for it (never downloaded)

    @property
    def sender(self) -> Recipient:
        return Recipient(self.channel, self.chat_id)


@dataclass(frozen=True, slots=True)
class Button:
    """A button: what it says and the data it sends back (at most 64 bytes, Telegram's limit)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message. `edit` asks the channel to replace the message whose button was pressed, if it can.

    `to` is None for a reply to the speaker. `key` makes a notification idempotent across re-runs
    (e.g. "help:12:offer:7"); replies are keyed by their turn. `undeliverable` is what to send, and to
    whom, if this message cannot be delivered because the recipient blocked the bot. `ask_contact` is the
    label of a "share my phone number" keyboard button (channels that have one); such a message carries no
    other buttons. `close_keyboard` takes that keyboard away again.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    attachment: Attachment | None = None
    toast: str | None = None
    to: Recipient | None = None
    key: str = ""
    undeliverable: Outbound | None = None
    ask_contact: str = ""
    close_keyboard: bool = False
    photo_ref: str = ""  # a photo the platform already holds (Telegram's file_id), sent with `text` as caption
    photo_url: str = ""  # an image served by the bot's own web server (a signed link), for channels without uploads

    def button_list(self) -> list[Button]:
        """Buttons in reading order (rows left to right, top to bottom)."""
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True, slots=True)
class ChannelCaps:
    """What a channel can show; the core adapts messages to it once, not per flow."""

    inline_buttons: bool = True
    edits: bool = True
    max_text: int = 4096
    documents: bool = True
    max_caption: int = 1024
    share_contact: bool = False  # a keyboard button that sends the person's own phone number
    uploads: bool = True  # files and images go up with the message; else the core turns them into signed links

    # A later Zalo Official Account adapter fits these without touching flows: its buttons
    # (`oa.query.hide`) send their data back as a text the adapter parses into a "button" Inbound, so it
    # declares inline_buttons=True; its 48-hour free window is judged from sessions.last_inbound_at, kept
    # per channel and chat from the start; token refresh and the signature check stay inside the adapter.


TELEGRAM_CAPS = ChannelCaps(
    inline_buttons=True, edits=True, max_text=4096, documents=True, max_caption=1024, share_contact=True
)
TEXT_ONLY_CAPS = ChannelCaps(inline_buttons=False, edits=False, max_text=2000, documents=False, max_caption=2000)
ZALO_BOT_CAPS = ChannelCaps(
    inline_buttons=False, edits=False, max_text=2000, documents=False, max_caption=2000, uploads=False
)
