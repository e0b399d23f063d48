"""The heart: one turn per stored update, in one transaction: claim the inbox row, load the session,
run a step, save the state, and write every message the step produced — replies to the speaker and
notifications to anyone else — to the outbox. Nothing is sent from here; the senders do that after
the commit, so a crash can never leave a change without its message or a message without its change.

Errors (the tree is small on purpose):
    ContentError      content the bot cannot run without is broken: raised at start-up, never per turn
    DatabaseUrlError  DATABASE_URL cannot be opened by this build: raised at start-up
    any other Exception inside a step: rolled back, logged with the inbox id (never the text or the
    person), and the person is told something went wrong and what to do next.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.access import allowed
from bot.flows.base import Answer, Router, Services, State, Turn, role_of
from bot.flows.common import menu_answer
from bot.flows.menu import stale_button, unknown_command, unsupported
from bot.flows.search import answer_text
from bot.flows.settings import address
from bot.heavy import HeavyWorkFailed
from bot.messages import TELEGRAM_CAPS, ChannelCaps, Inbound, Outbound, Recipient
from bot.render import MENU_KEY, fit, is_number, numbered_choice
from bot.store import Conn, Database, files, inbox, members, outbox, sessions
from bot.store.outbox import NOTIFY, REPLY, NewMessage, OutboxItem

log = logging.getLogger(__name__)
SMALL_FILE = 256 * 1024  # bytes: parsing this takes well under a second
STICKY = ("addr", "village")  # how to address the person; their village (help requests, 🔔)
APOLOGY = "Xin lỗi, hệ thống đang bận. Anh/chị thử lại sau ít phút, hoặc gõ /menu."


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Channel-agnostic: runs a turn for an `Inbound` and returns the outbox rows it wrote."""

    def __init__(
        self, db: Database, services: Services, router: Router, caps: Mapping[str, ChannelCaps] | None = None
    ) -> None:
        self._db = db
        self._services = services
        self._router = router
        self._caps = dict(caps or {})
        self.on_outbox: Callable[[list[OutboxItem]], None] | None = None

    @property
    def services(self) -> Services:
        return self._services

    @property
    def router(self) -> Router:
        return self._router

    def caps_for(self, channel: str) -> ChannelCaps:
        return self._caps.get(channel, TELEGRAM_CAPS)

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Store an already-parsed update and run its turn; the replies to the speaker (tests, tools).

        A re-delivered update (same id, same content) gets no answer.
        """
        async with self._db.transaction() as conn:
            item_id = await inbox.add_parsed(
                conn, inbound.channel, inbound.update_id, _fingerprint(inbound), inbound.chat_id, self._services.clock()
            )
        if item_id is None:
            log.info("update %s:%s already stored", inbound.channel, inbound.update_id)
            return []
        items = await self.run_turn(item_id, inbound, await self.prepare(inbound))
        if self.on_outbox is not None:
            self.on_outbox(items)
        return [item.message for item in items if item.to == inbound.sender]

    async def prepare(self, inbound: Inbound) -> object:
        """Parse an uploaded file before the turn takes the database: a small one in a thread, a big one
        (seconds of pure Python) in the worker process, so the loop keeps answering everyone else."""
        prepare = self._router.file_prepare
        if inbound.kind != "file" or inbound.file is None or prepare is None:
            return None
        try:
            if len(inbound.file.content) <= SMALL_FILE:
                return await asyncio.to_thread(prepare, inbound.file)
            return await self._services.heavy.run(prepare, inbound.file)
        except HeavyWorkFailed:  # the file killed its worker (memory): the step says it cannot be read
            log.error("update %s: parsing its file killed the worker process", inbound.update_id)
            return None
        except Exception as exc:  # a parser bug must not bring the same upload back forever
            log.error("update %s: parsing its file failed (%s)", inbound.update_id, type(exc).__name__)
            return None

    async def run_turn(self, item_id: int, inbound: Inbound, prepared: object = None) -> list[OutboxItem]:
        """Answer one stored update exactly once; an inbox row already processed writes nothing."""
        now = self._services.clock()
        caps = self.caps_for(inbound.channel)
        try:
            async with self._db.transaction() as conn:
                if not await inbox.claim(conn, item_id, now):
                    log.info("inbox %d already processed", item_id)
                    return []
                state = await sessions.load(conn, inbound.channel, inbound.chat_id)
                inbound = self._pressed_number(inbound, state, caps)
                member = await members.get(conn, inbound.channel, inbound.chat_id)
                turn = Turn(inbound, state, conn, self._services, now, caps, member, prepared)
                correction = self._off_menu(turn)
                answer = correction or await self._dispatch(turn)
                new_state = dict(state if answer.state is None else answer.state)
                if answer.state is None and inbound.kind in ("button", "command"):
                    # Pressing anything else ends a wait for typed input (a search, a name, a code),
                    # so a later question is answered as a question, not swallowed by that wait.
                    new_state.pop("await", None)
                for key in () if answer.forget else STICKY:  # preferences outlive every conversation
                    if key in state and key not in new_state:
                        new_state[key] = state[key]
                return await self._write(
                    conn, turn, item_id, answer.messages, new_state, keep_menu=correction is not None
                )
        except Exception:
            log.exception("inbox %d (%s update %s) failed", item_id, inbound.channel, inbound.update_id)
            # If this fails too, the database itself is failing: the error goes to the caller, which keeps
            # the update pending and tries again (`bot.intake`).
            return await self._apologise(item_id, inbound, caps, now)

    async def allows(self, channel: str, chat_id: str, action: str) -> bool:
        """Whether this person may do `action` now (asked before fetching an uploaded file)."""
        async with self._db.transaction() as conn:
            member = await members.get(conn, channel, chat_id)
        return allowed(role_of(member), action)

    def _pressed_number(self, inbound: Inbound, state: State, caps: ChannelCaps) -> Inbound:
        """On a channel with numbered menus a reply "2" presses the second line of the last menu —
        unless the step waiting for this reply asks for figures."""
        if caps.inline_buttons or inbound.kind != "text" or state.get("await") in self._router.numbers:
            return inbound
        data = numbered_choice(inbound.text, state.get(MENU_KEY))
        return replace(inbound, kind="button", data=data, text="") if data is not None else inbound

    def _off_menu(self, turn: Turn) -> Answer | None:
        """A number that is on no line of the last menu: say which numbers there are, keep the menu.
        Not while a step waits for typed input: there the number is data (a household code "15")."""
        inbound, menu = turn.inbound, turn.state.get(MENU_KEY)
        if turn.caps.inline_buttons or inbound.kind != "text" or not is_number(inbound.text):
            return None
        if not isinstance(menu, list) or not menu or turn.state.get("await") in self._router.awaiting:
            return None
        return Answer([Outbound(turn.t("numbered_off_menu", last=len(menu)))], state=dict(turn.state))

    async def _dispatch(self, turn: Turn) -> Answer:
        inbound, router = turn.inbound, self._router
        if inbound.kind == "command":
            handler = router.commands.get(inbound.command, unknown_command)
            return await handler(turn)
        if inbound.kind == "button":
            prefix = inbound.data.partition(":")[0]
            handler = router.buttons.get(prefix, stale_button)
            return await handler(turn)
        if inbound.kind == "file":
            return await router.file_handler(turn) if router.file_handler else await unsupported(turn)
        if inbound.kind == "contact":  # a shared phone number: only the help request asks for one
            phone_step = router.awaiting.get("help_phone")
            if turn.state.get("await") == "help_phone" and phone_step is not None:
                return await phone_step(turn)
            return menu_answer(turn, turn.t("help_contact_unasked"))
        if inbound.kind == "text":
            awaited = turn.state.get("await")
            text_handler = router.awaiting.get(awaited) if isinstance(awaited, str) else None
            if text_handler is not None and inbound.text.strip():
                return await text_handler(turn)
            return await answer_text(turn)
        if inbound.media == "photo" and inbound.photo_ref:
            awaited = turn.state.get("await")
            photo_step = router.photos.get(awaited) if isinstance(awaited, str) else None
            if photo_step is not None:
                return await photo_step(turn)
        return await unsupported(turn)

    async def _write(
        self,
        conn: Conn,
        turn: Turn,
        item_id: int,
        messages: Sequence[Outbound],
        state: State,
        *,
        keep_menu: bool = False,
    ) -> list[OutboxItem]:
        """Fit every message to its recipient's channel and store it, with the speaker's new state."""
        inbound, now = turn.inbound, turn.now
        speaker = inbound.sender
        mine = [m for m in messages if m.to is None or m.to == speaker]
        fitted, menu = await self._fitted(conn, speaker, mine, state, turn.caps, now)
        if menu:
            state[MENU_KEY] = menu
        elif not keep_menu:  # a correction ("choose 1 to 4") keeps the menu it corrects
            state.pop(MENU_KEY, None)
        new = [
            NewMessage(
                speaker,
                replace(message, to=speaker),
                f"turn:{item_id}:{i}",
                REPLY,
                edit_id=inbound.message_id if message.edit else None,
                ack=inbound.callback_id if i == 0 else "",
            )
            for i, message in enumerate(fitted)
        ]
        if not new and inbound.callback_id:  # a pressed button is always acknowledged
            ack = NewMessage(speaker, Outbound("", to=speaker), f"turn:{item_id}:ack", REPLY, ack=inbound.callback_id)
            new.append(ack)
        await sessions.save(conn, speaker.channel, speaker.chat_id, state, now)
        others = [m for m in messages if m.to is not None and m.to != speaker]
        new += await self._notifications(conn, item_id, others, now)
        return await outbox.add(conn, new, now)

    async def notify(
        self, conn: Conn, messages: Sequence[Outbound], now: datetime, *, priority: int = NOTIFY
    ) -> list[OutboxItem]:
        """Store messages for other people outside any turn (the scheduler's): each fitted to its
        recipient's channel like a turn's notifications, each with its own `key`."""
        if any(m.to is None or not m.key for m in messages):
            raise ValueError("scheduled messages need a recipient and a key")
        return await outbox.add(conn, await self._notifications(conn, 0, messages, now, priority), now)

    async def _notifications(
        self, conn: Conn, item_id: int, messages: Sequence[Outbound], now: datetime, priority: int = NOTIFY
    ) -> list[NewMessage]:
        """Messages for other people; on a text-only channel their numbered menu goes in their session."""
        by_recipient: dict[Recipient, list[Outbound]] = defaultdict(list)
        for message in messages:
            assert message.to is not None
            by_recipient[message.to].append(message)
        new: list[NewMessage] = []
        for to, theirs in by_recipient.items():
            state = await sessions.load(conn, to.channel, to.chat_id)
            shown = state.get(MENU_KEY)
            after = shown if isinstance(shown, list) else ()
            fitted, menu = await self._fitted(conn, to, theirs, state, self.caps_for(to.channel), now, after)
            if menu:
                state[MENU_KEY] = menu
                await sessions.save(conn, to.channel, to.chat_id, state, now, inbound=False)
            for i, message in enumerate(fitted):
                key = f"{message.key}:{i}" if message.key else f"turn:{item_id}:{to.channel}:{to.chat_id}:{i}"
                new.append(NewMessage(to, message, key, priority))
        return new

    async def _fitted(
        self,
        conn: Conn,
        to: Recipient,
        messages: Sequence[Outbound],
        state: State,
        caps: ChannelCaps,
        now: datetime,
        after: Sequence[str] = (),
    ) -> tuple[list[Outbound], list[str] | None]:
        """Messages as `to` receives them: addressed as they chose, files as links where the channel
        cannot upload, buttons numbered where it has none (continuing `after`)."""
        addressed = _addressed(messages, state.get("addr"))
        linked = await self._linked(conn, to, addressed, caps, now)
        return fit(linked, caps, self._services.content.strings("numbered_hint"), after=after)

    async def _linked(
        self, conn: Conn, to: Recipient, messages: list[Outbound], caps: ChannelCaps, now: datetime
    ) -> list[Outbound]:
        """On a channel that cannot upload, each file becomes a signed, expiring link: an image goes as a
        photo by URL, a report as a download line under the text. Without a public URL, the text says
        where the file can be had instead."""
        if caps.uploads or not any(m.attachment for m in messages):
            return messages
        links, t = self._services.links, self._services.content.strings
        out: list[Outbound] = []
        for message in messages:
            file = message.attachment
            if file is None:
                out.append(message)
                continue
            if links is None:
                out.append(replace(message, attachment=None, text=_joined(message.text, t("file_no_link"))))
                continue
            expires = now + links.ttl
            url = links.url(await files.put(conn, to, file, now, expires), expires, file.name)
            if file.is_image:
                out.append(replace(message, attachment=None, photo_url=url))
                continue
            until = expires.astimezone(ZoneInfo(self._services.settings.timezone)).strftime("%H:%M %d/%m")
            line = t("file_link", name=file.name, url=url, until=until)
            out.append(replace(message, attachment=None, text=_joined(message.text, line)))
        return out

    async def _apologise(self, item_id: int, inbound: Inbound, caps: ChannelCaps, now: datetime) -> list[OutboxItem]:
        """The last-resort answer. The row is still marked processed so a retry does not loop."""
        async with self._db.transaction() as conn:
            if not await inbox.claim(conn, item_id, now):
                return []
            state = await sessions.load(conn, inbound.channel, inbound.chat_id)
            turn = Turn(inbound, state, conn, self._services, now, caps)
            answer = menu_answer(turn, turn.t("error"))
            new_state = dict(answer.state or {})
            new_state.update({key: state[key] for key in STICKY if key in state})
            return await self._write(conn, turn, item_id, answer.messages, new_state)


def _addressed(messages: Sequence[Outbound], form: object) -> list[Outbound]:
    """Each text with "anh/chị" replaced by how the recipient chose to be addressed."""
    return [replace(m, text=address(m.text, form)) for m in messages]


def _joined(text: str, line: str) -> str:
    return f"{text}\n\n{line}" if text else line


def _fingerprint(inbound: Inbound) -> str:
    """What distinguishes one parsed update from another with the same id (file bytes left out)."""
    parts = (inbound.kind, inbound.text, inbound.command, inbound.payload, inbound.data, inbound.media)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
