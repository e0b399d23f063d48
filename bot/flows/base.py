"""What every flow step receives (`Turn`) and returns (`Answer`), and the `Router` that picks the step.

A step is a short async function: it reads the turn (who, what they sent, their session state, the
open transaction and a frozen bundle of services and the clock) and returns what to say and the new
state. It never talks to a channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.access import Role, allowed
from bot.config import Settings
from bot.content import Content, Strings, official_name
from bot.heavy import HeavyPool, on_snapshot
from bot.links import FileLinks
from bot.messages import Attachment, Button, ChannelCaps, Inbound, Outbound
from bot.store import Conn, Database, audit
from bot.store.members import Member
from bot.store.tasks import Task
from bot.understand import Understanding

State = dict[str, Any]
T = TypeVar("T")


class Signals:
    """Wake-ups between parts of the running service: a turn that queued a task wakes the worker.

    A signal only shortens a wait; whoever listens also looks for work on its own now and then, so a
    signal lost (or sent before the transaction committed) delays nothing for long.
    """

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[[], None]]] = {}

    def connect(self, name: str, listener: Callable[[], None]) -> None:
        self._listeners.setdefault(name, []).append(listener)

    def emit(self, name: str) -> None:
        for listener in self._listeners.get(name, []):
            listener()


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a flow may use besides the turn itself; built once at start-up."""

    settings: Settings
    content: Content
    understanding: Understanding
    clock: Callable[[], datetime]
    signals: Signals = field(default_factory=Signals)
    heavy: HeavyPool = field(default_factory=HeavyPool)
    # Per channel, how to open the bot at a payload ("guide-pay-online") from outside: a t.me link.
    # Filled in by the running service once a channel knows its own name; empty in tests and tools.
    deep_links: dict[str, Callable[[str], str | None]] = field(default_factory=dict)
    # Signed download links for channels that cannot upload files (Zalo); None without PUBLIC_BASE_URL.
    links: FileLinks | None = None

    def commune_name(self, code: str) -> str:
        """What a commune's files are titled with: its settings file's name, else the official list's
        (a member of another commune served by this bot must not see this commune's name on their file)."""
        if code == self.content.commune.code:
            return self.content.commune.name
        return official_name(code) or f"Xã {code}"


@dataclass(frozen=True, slots=True)
class Turn:
    inbound: Inbound
    state: State
    conn: Conn
    services: Services
    now: datetime
    caps: ChannelCaps
    member: Member | None = None
    prepared: object = None  # what the router's `file_prepare` made of an uploaded file

    @property
    def role(self) -> Role:
        return role_of(self.member)

    def can(self, action: str) -> bool:
        return allowed(self.role, action)

    @property
    def commune(self) -> str:
        """The commune the person acts in: their own if a member, else the one this bot serves."""
        return self.member.commune if self.member is not None else self.services.content.commune.code

    @property
    def person(self) -> str:
        """An opaque reference to the person on this channel (no name, no phone number)."""
        return f"{self.inbound.channel}:{self.inbound.chat_id}"

    @property
    def t(self) -> Strings:
        return self.services.content.strings

    @property
    def content(self) -> Content:
        return self.services.content

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: a member id, never a name."""
        return f"member:{self.member.id}" if self.member is not None else self.person

    async def audit(self, action: str, object: str, **detail: Any) -> None:
        """Record in the audit log what this person did (ids and counts only)."""
        await audit.record(
            self.conn, commune=self.commune, actor=self.actor, action=action, object=object, now=self.now, **detail
        )

    def args(self) -> list[str]:
        """The arguments of pressed button data ("g:vneid-register:2" → ["vneid-register", "2"])."""
        _, _, rest = self.inbound.data.partition(":")
        return rest.split(":") if rest else []

    def int_arg(self, count: int = 1) -> int | None:
        """The id in button data with exactly `count` arguments, or None when forged or malformed.

        Only ASCII digits and at most 9 of them: `str.isdigit` also accepts "²", and a huge number
        overflows SQLite's integer.
        """
        args = self.args()
        if len(args) != count:
            return None
        return parse_id(args[-1])


@dataclass(frozen=True, slots=True)
class Answer:
    """What to say, and the session state to keep (None keeps the current state unchanged);
    `forget` drops even the preferences that otherwise outlive every conversation (/deleteme)."""

    messages: Sequence[Outbound]
    state: State | None = None
    forget: bool = False


Handler = Callable[[Turn], Awaitable[Answer]]


@dataclass
class TaskOutput:
    """What a background task produced: messages for whoever asked, audit entries (ids and counts)."""

    messages: list[Outbound] = field(default_factory=list)
    audit: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class TaskContext:
    """What a background task gets: the database (to read from) and the services."""

    db: Database
    services: Services

    async def read(self, fn: Callable[..., T], *, heavy: bool = True, **kwargs: Any) -> T:
        """`fn(conn, **kwargs)` on a read-only snapshot: in the worker process when `heavy` (seconds of
        pure Python), else in a thread. Never on the event loop, never holding the write lock."""
        path = self.db.path
        if heavy and path is not None:
            return await self.services.heavy.run(on_snapshot, fn, str(path), kwargs)
        return await self.db.read(lambda conn: fn(conn, **kwargs))


TaskHandler = Callable[[Task, TaskContext], Awaitable[TaskOutput]]


@dataclass
class Router:
    """Maps commands, button prefixes and awaited text to steps. One per feature module."""

    commands: dict[str, Handler] = field(default_factory=dict)
    buttons: dict[str, Handler] = field(default_factory=dict)
    awaiting: dict[str, Handler] = field(default_factory=dict)
    photos: dict[str, Handler] = field(default_factory=dict)  # a photo sent while the session awaits `key`
    numbers: set[str] = field(default_factory=set)  # awaited steps where a typed "2" is data, not a menu choice
    file_handler: Handler | None = None
    file_prepare: Callable[[Attachment], object] | None = None
    tasks: dict[str, TaskHandler] = field(default_factory=dict)

    def command(self, *names: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for name in names:
                self.commands[name] = handler
            return handler

        return register

    def button(self, prefix: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.buttons[prefix] = handler
            return handler

        return register

    def text_for(self, awaited: str, *, numbers: bool = False) -> Callable[[Handler], Handler]:
        """A step for free text while the session waits for something (e.g. a rating comment).

        `numbers`: the step asks for figures, so on a channel with numbered menus a reply "2" goes to it
        instead of choosing the menu's second line.
        """

        def register(handler: Handler) -> Handler:
            self.awaiting[awaited] = handler
            if numbers:
                self.numbers.add(awaited)
            return handler

        return register

    def photo_for(self, awaited: str) -> Callable[[Handler], Handler]:
        """A step for a photo sent while the session waits for something (an announcement's picture)."""

        def register(handler: Handler) -> Handler:
            self.photos[awaited] = handler
            return handler

        return register

    def task(self, kind: str) -> Callable[[TaskHandler], TaskHandler]:
        """Heavy work a step queued (`bot.store.tasks`), run later by the background worker."""

        def register(handler: TaskHandler) -> TaskHandler:
            self.tasks[kind] = handler
            return handler

        return register

    def file(self, handler: Handler) -> Handler:
        """The step for an uploaded file (one per bot: roster import)."""
        self.file_handler = handler
        return handler

    def include(self, other: Router) -> None:
        if other.file_prepare is not None:
            self.file_prepare = other.file_prepare
        if other.file_handler is not None:
            if self.file_handler is not None:
                raise ValueError("two file handlers registered")
            self.file_handler = other.file_handler
        for mine, theirs in (
            (self.commands, other.commands),
            (self.buttons, other.buttons),
            (self.awaiting, other.awaiting),
            (self.photos, other.photos),
        ):
            _merge(mine, theirs)
        _merge(self.tasks, other.tasks)
        self.numbers |= other.numbers


def _merge(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    clash = set(mine) & set(theirs)
    if clash:
        raise ValueError(f"routes registered twice: {sorted(clash)}")
    mine.update(theirs)


def role_of(member: Member | None) -> Role:
    """A person's role now; a deactivated member is a citizen again."""
    if member is None or not member.active:
        return Role.CITIZEN
    return Role(member.role)


def parse_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def requires(action: str) -> Callable[[Handler], Handler]:
    """Refuse the step unless the person's role allows `action` (checked on every turn)."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(turn: Turn) -> Answer:
            if not turn.can(action):
                from bot.flows.common import menu_answer  # common imports this module

                return menu_answer(turn, turn.t("not_allowed"))
            return await handler(turn)

        guarded.__doc__ = handler.__doc__
        guarded.__name__ = handler.__name__
        return guarded

    return wrap


def button(label: str, data: str) -> Button:
    """A button; data over Telegram's 64-byte limit is a programming error, caught at once."""
    if not data or len(data.encode()) > 64:
        raise ValueError(f"button data must be 1..64 bytes: {data!r}")
    return Button(label, data)


def rows(*buttons: Button, width: int = 1) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out `width` to a row (one per row by default: big targets for cheap phones)."""
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))
