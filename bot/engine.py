"""The heart: session load → step → session save → replies, one transaction per turn.

Errors (the tree is small on purpose):
    ContentError   content the bot cannot run without is broken: raised at start-up, never per turn
    DatabaseUrlError  DATABASE_URL cannot be opened by this build: raised at start-up
    any other Exception inside a step: rolled back, logged with the update id (never the text or
    the person), and the person is told something went wrong and what to do next.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.access import allowed
from bot.flows.base import Answer, Router, Services, State, Turn, role_of
from bot.flows.common import menu_answer
from bot.flows.menu import stale_button, unknown_command, unsupported
from bot.flows.search import answer_text
from bot.messages import TELEGRAM_CAPS, Button, ChannelCaps, Inbound, Outbound
from bot.store import Database, members, sessions, updates

log = logging.getLogger(__name__)
MENU_KEY = "_menu"
APOLOGY = "Xin lỗi, hệ thống đang bận. Anh/chị thử lại sau ít phút, hoặc gõ /menu."


def utc_now() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Channel-agnostic: takes an `Inbound`, returns the `Outbound`s to send."""

    def __init__(
        self, db: Database, services: Services, router: Router, caps: Mapping[str, ChannelCaps] | None = None
    ) -> None:
        self._db = db
        self._services = services
        self._router = router
        self._caps = dict(caps or {})

    @property
    def services(self) -> Services:
        return self._services

    def caps_for(self, channel: str) -> ChannelCaps:
        return self._caps.get(channel, TELEGRAM_CAPS)

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Answer one update exactly once; a re-delivered update id gets no answer."""
        caps = self.caps_for(inbound.channel)
        now = self._services.clock()
        prepared: object = None
        prepare = self._router.file_prepare
        if inbound.kind == "file" and inbound.file is not None and prepare is not None:
            # Parsing a big file takes seconds: do it in a thread, before the turn holds the database.
            prepared = await asyncio.to_thread(prepare, inbound.file)
        try:
            async with self._db.transaction() as conn:
                if not await updates.claim(conn, inbound.channel, inbound.update_id, now):
                    log.info("update %s:%s already processed", inbound.channel, inbound.update_id)
                    return []
                state = await sessions.load(conn, inbound.channel, inbound.chat_id)
                inbound = _numbered_choice(inbound, state)
                member = await members.get(conn, inbound.channel, inbound.chat_id)
                turn = Turn(inbound, state, conn, self._services, now, caps, member, prepared)
                answer = await self._dispatch(turn)
                new_state = dict(state if answer.state is None else answer.state)
                if answer.state is None and inbound.kind in ("button", "command"):
                    # Pressing anything else ends a wait for typed input (a search, a name, a code),
                    # so a later question is answered as a question, not swallowed by that wait.
                    new_state.pop("await", None)
                messages = present(answer.messages, caps, new_state, turn)
                await sessions.save(conn, inbound.channel, inbound.chat_id, new_state, now)
                return messages
        except Exception:
            log.exception("update %s:%s failed", inbound.channel, inbound.update_id)
            try:
                return await self._apologise(inbound, caps, now)
            except Exception:  # the database itself is failing: still say something useful
                log.exception("update %s:%s: apology failed too", inbound.channel, inbound.update_id)
                return [Outbound(APOLOGY)]

    async def allows(self, channel: str, chat_id: str, action: str) -> bool:
        """Whether this person may do `action` now (channels ask before fetching an uploaded file)."""
        async with self._db.transaction() as conn:
            member = await members.get(conn, channel, chat_id)
        return allowed(role_of(member), action)

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
        if inbound.kind == "text":
            awaited = turn.state.get("await")
            text_handler = router.awaiting.get(awaited) if isinstance(awaited, str) else None
            if text_handler is not None and inbound.text.strip():
                return await text_handler(turn)
            return await answer_text(turn)
        return await unsupported(turn)

    async def _apologise(self, inbound: Inbound, caps: ChannelCaps, now: datetime) -> list[Outbound]:
        """The last-resort answer. The update is still marked processed so a retry does not loop."""
        async with self._db.transaction() as conn:
            await updates.claim(conn, inbound.channel, inbound.update_id, now)
            state = await sessions.load(conn, inbound.channel, inbound.chat_id)
            turn = Turn(inbound, state, conn, self._services, now, caps)
            answer = menu_answer(turn, turn.t("error"))
            new_state = dict(answer.state or {})
            messages = present(answer.messages, caps, new_state, turn)
            await sessions.save(conn, inbound.channel, inbound.chat_id, new_state, now)
            return messages


def _numbered_choice(inbound: Inbound, state: State) -> Inbound:
    """On text-only channels a reply "2" presses the second button of the last numbered menu."""
    menu = state.get(MENU_KEY)
    text = inbound.text.strip()
    if inbound.kind != "text" or not isinstance(menu, list) or not text.isdigit():
        return inbound
    index = int(text) - 1
    if 0 <= index < len(menu) and isinstance(menu[index], str):
        return replace(inbound, kind="button", data=menu[index], text="")
    return inbound


def present(messages: Sequence[Outbound], caps: ChannelCaps, state: State, turn: Turn) -> list[Outbound]:
    """Fit replies to the channel: numbered menus where there are no buttons, length caps, no edits."""
    state.pop(MENU_KEY, None)
    if caps.inline_buttons:
        return [_cap(m, caps) for m in messages]
    out: list[Outbound] = []
    menu: list[str] = []
    for message in messages:
        text = message.text
        buttons: list[Button] = message.button_list()
        if buttons:
            lines = [f"{len(menu) + i + 1}. {b.label}" for i, b in enumerate(buttons)]
            menu.extend(b.data for b in buttons)
            text = f"{text}\n\n" + "\n".join(lines) + "\n" + turn.t("numbered_hint")
        out.append(_cap(Outbound(text, (), False, message.attachment, message.toast), caps))
    if menu:
        state[MENU_KEY] = menu
    return out


def _cap(message: Outbound, caps: ChannelCaps) -> Outbound:
    if len(message.text) <= caps.max_text:
        return message
    return replace(message, text=message.text[: caps.max_text - 1] + "…")
