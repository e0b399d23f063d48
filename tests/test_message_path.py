"""The message path (issue 6): inbox before acknowledging, the addressed outbox, the sender's limits and
retries, start-up and shutdown, heavy work off the turn. Through the real channel and the emulator."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.messages import Outbound, Recipient
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User
from bot.store import inbox, outbox, sessions
from bot.store.outbox import NOTIFY, NewMessage
from bot.web import WebServer
from tests.conftest import FAST, Clock, rows, start_service, until_rows

# The answer to /start: the main menu, and how the person wants to be addressed.
WELCOME = [
    *["📘 Hướng dẫn theo chủ đề", "🔎 Hỏi bằng lời", "🙋 Nhờ hỗ trợ", "☎️ Liên hệ xã", "🔔 Thông báo của xã"],
    "🙇 Em nên gọi anh/chị là…",
]


async def eventually(check: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait until `check()` is True (exactly); fail with a clear message after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while check() is not True:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# ---- inbox before acknowledging -----------------------------------------------------------------------


async def test_polling_confirms_a_batch_only_after_it_is_stored(
    emulator: BotApiEmulator, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the first store: Telegram must keep the update, and hand it out again."""
    real_add, failures = inbox.add, []

    async def flaky_add(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("disk full")
        return await real_add(*args, **kwargs)

    monkeypatch.setattr(inbox, "add", flaky_add)
    service = await start_service(core, emulator)
    try:
        user = User(emulator, chat_id=6001)
        await user.send("/start")
        assert (await user.reply()).labels == WELCOME  # answered after the retry, exactly once
        assert failures == [1]
        sends = [a for a in emulator.actions(6001) if a.kind == "send"]
        assert len(sends) == 1
    finally:
        await service.stop()


async def test_an_update_stored_but_not_yet_run_survives_a_crash(
    emulator: BotApiEmulator, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored and confirmed to Telegram, then the process dies before the turn: the next start runs it."""
    from bot.intake import Intake

    real_process = Intake._process
    stuck = asyncio.Event()

    async def never(self: Intake, item: Any, chat: str) -> None:
        await stuck.wait()

    monkeypatch.setattr(Intake, "_process", never)
    service = await start_service(await build_core(settings, clock=clock), emulator)
    user = User(emulator, chat_id=6002)
    await user.send("/start")
    await eventually(lambda: emulator.unconfirmed == 0)  # Telegram considers it delivered
    await service.stop()
    assert emulator.actions(6002) == []

    monkeypatch.setattr(Intake, "_process", real_process)
    service = await start_service(await build_core(settings, clock=clock), emulator)
    try:
        assert (await user.reply()).labels == WELCOME
    finally:
        await service.stop()


async def webhook_service(core: Core, emulator: BotApiEmulator) -> tuple[Service, str]:
    web = WebServer("127.0.0.1", 0)
    service = await start_service(
        core, emulator, web=web, webhook_url="http://127.0.0.1:1/telegram", webhook_secret="s3cret-token"
    )
    return service, f"http://127.0.0.1:{web.port}/telegram"


async def raw_post_status(url: str, secret: str, *, declared: int) -> int:
    """POST headers announcing `declared` bytes, send 1 kB, and read the answer without sending the rest."""
    target = httpx.URL(url)
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        head = (
            f"POST {target.path} HTTP/1.1\r\nHost: {target.host}\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\nContent-Length: {declared}\r\n\r\n"
        )
        writer.write(head.encode() + b"{" + b" " * 1024)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=3)
        return int(status_line.split()[1])
    finally:
        writer.close()


def update(chat: int, text: str, update_id: int) -> dict[str, Any]:
    message = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": text}
    return {"update_id": update_id, "message": message}


async def test_webhook_checks_the_secret_and_size_first_and_answers_200_only_once_stored(
    emulator: BotApiEmulator, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    service, url = await webhook_service(core, emulator)
    secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    emulator.open_chat(6003)
    try:
        assert emulator.webhook_url == "http://127.0.0.1:1/telegram" and emulator.webhook_secret == "s3cret-token"
        async with httpx.AsyncClient(timeout=5) as client:
            body = json.dumps(update(6003, "/start", 1)).encode()
            assert (await client.post(url, content=body)).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            assert (await client.post(url, content=body, headers=wrong)).status_code == 403
            assert await rows(core, "SELECT count(*) FROM inbox") == [(0,)]

            # 100 MB announced: refused from the headers, without reading (or waiting for) the body.
            assert await raw_post_status(url, "s3cret-token", declared=100 * 1024 * 1024) == 413
            assert await raw_post_status(url, "guess", declared=100 * 1024 * 1024) == 403

            assert (await client.post(url, content=b"not json", headers=secret)).status_code == 400

            async def broken_store(*args: Any) -> None:
                raise RuntimeError("database locked for ever")

            monkeypatch.setattr(service.intake, "store", broken_store)
            assert (await client.post(url, content=body, headers=secret)).status_code == 503  # Telegram retries
            monkeypatch.undo()

            response = await client.post(url, content=body, headers=secret)
            assert response.status_code == 200
        assert await rows(core, "SELECT update_key FROM inbox") == [("1",)]  # committed when 200 was sent
        user = User(emulator, chat_id=6003)
        await user.replies()
        assert next(a.text for a in emulator.actions(6003) if a.kind == "send").startswith("Xin chào")
    finally:
        await service.stop()


async def test_webhook_end_to_end_through_the_emulator(emulator: BotApiEmulator, core: Core) -> None:
    web = WebServer("127.0.0.1", 0)
    await web.start()  # to learn a free port, then give it to the channel's webhook URL
    port = web.port
    await web.stop()
    web = WebServer("127.0.0.1", port)
    service = await start_service(
        core,
        emulator,
        web=web,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret="s3cret-token",
    )
    try:
        user = User(emulator, chat_id=6004)
        await user.send("/start")
        assert (await user.reply()).labels == WELCOME
    finally:
        await service.stop()


# ---- poison updates -----------------------------------------------------------------------------------


async def test_a_poison_update_is_skipped_and_never_blocks_the_ones_behind_it(
    emulator: BotApiEmulator, service: Service, core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    poison = {
        "update_id": emulator.next_update_id(),
        "callback_query": {"from": {"id": 6010}, "message": {"chat": {"id": 6010, "type": "private"}}},
        "x": "Nguyễn Văn Độc 0912345678",
    }
    emulator.inject_raw(poison)
    users = [User(emulator, chat_id=6011 + i) for i in range(3)]
    for user in users:
        await user.send("/start")
    for user in users:
        assert (await user.reply()).labels == WELCOME
    assert await rows(core, "SELECT status FROM inbox WHERE update_key = ?", str(poison["update_id"])) == [("failed",)]
    failures = [r.getMessage() for r in caplog.records if "could not be parsed" in r.getMessage()]
    assert len(failures) == 1 and "Nguyễn" not in failures[0] and "0912345678" not in failures[0]
    assert emulator.unconfirmed == 0  # polling went on


async def test_an_update_that_keeps_crashing_the_process_is_given_up_alone(core: Core) -> None:
    """Only the update whose turn was started counts an attempt: those queued behind it are never dropped."""
    now = core.services.clock()
    async with core.db.transaction() as conn:
        raw = [inbox.RawUpdate("77", "1", {"update_id": 77}), inbox.RawUpdate("78", "2", {"update_id": 78})]
        killer, behind = await inbox.add(conn, "telegram", raw, now)
    for _ in range(inbox.MAX_ATTEMPTS):  # each start-up: it is started, then the process dies
        async with core.db.transaction() as conn:
            pending, dropped = await inbox.recover(conn, now, {"telegram"})
            assert [p.id for p in pending] == [killer.id, behind.id] and dropped == []
            await inbox.started(conn, killer.id)
    async with core.db.transaction() as conn:
        pending, dropped = await inbox.recover(conn, now, {"telegram"})
    assert [p.id for p in pending] == [behind.id] and dropped == [killer.id]


async def test_restarts_without_a_crash_drop_nothing(core: Core) -> None:
    now = core.services.clock()
    async with core.db.transaction() as conn:
        [item] = await inbox.add(conn, "telegram", [inbox.RawUpdate("79", "1", {"update_id": 79})], now)
    for _ in range(inbox.MAX_ATTEMPTS + 2):
        async with core.db.transaction() as conn:
            pending, dropped = await inbox.recover(conn, now, {"telegram"})
        assert [p.id for p in pending] == [item.id] and dropped == []


async def test_an_update_with_a_lone_surrogate_is_stored(core: Core) -> None:
    from bot.channels.telegram import receipt

    raw = json.loads(
        '{"update_id": 9, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},'
        ' "text": "hi \\ud83d"}}'
    )
    async with core.db.transaction() as conn:
        assert len(await inbox.add(conn, "telegram", [receipt(raw)], core.services.clock())) == 1


async def test_a_database_failure_during_intake_is_retried_not_fatal(
    emulator: BotApiEmulator, service: Service, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk or another process fails one write: the update waits and is tried again; nothing stops."""
    import sqlite3

    real_fail, calls = inbox.fail, []

    async def flaky_fail(*args: Any, **kwargs: Any) -> None:
        if not calls:
            calls.append(1)
            raise sqlite3.OperationalError("database is locked")
        await real_fail(*args, **kwargs)

    monkeypatch.setattr(inbox, "fail", flaky_fail)
    poison = {
        "update_id": emulator.next_update_id(),
        "callback_query": {"message": {"chat": {"id": 6200, "type": "private"}}},
    }
    emulator.inject_raw(poison)
    user = User(emulator, chat_id=6201)
    await user.send("/start")
    assert (await user.reply()).labels == WELCOME
    assert calls == [1] and service.failure is None
    assert await rows(core, "SELECT status FROM inbox WHERE update_key = ?", str(poison["update_id"])) == [("failed",)]


async def test_a_redelivered_update_is_stored_once_but_a_reused_id_with_new_content_is_new(core: Core) -> None:
    now = core.services.clock()
    async with core.db.transaction() as conn:
        first = await inbox.add(conn, "telegram", [inbox.RawUpdate("5", "1", update(1, "hi", 5))], now)
        again = await inbox.add(conn, "telegram", [inbox.RawUpdate("5", "1", update(1, "hi", 5))], now)
        reset = await inbox.add(conn, "telegram", [inbox.RawUpdate("5", "1", update(1, "later", 5))], now)
    assert len(first) == 1 and again == [] and len(reset) == 1


# ---- the sender ---------------------------------------------------------------------------------------


async def test_a_429_for_one_chat_does_not_delay_another(
    emulator: BotApiEmulator, service: Service, core: Core
) -> None:
    slow, fast = User(emulator, chat_id=6021), User(emulator, chat_id=6022)
    emulator.inject_error("sendMessage", status=429, retry_after=30, chat_id=slow.chat_id)
    await slow.send("/start")
    await eventually(lambda: emulator.stats.get("sendMessage", 0) >= 1)
    started = asyncio.get_running_loop().time()
    await fast.send("/start")
    assert (await fast.reply()).labels == WELCOME
    assert asyncio.get_running_loop().time() - started < 2.0
    assert emulator.actions(slow.chat_id) == []  # still waiting out its own 30 s
    [(attempts, not_before)] = await rows(
        core, "SELECT attempts, not_before FROM outbox WHERE chat_id = ? AND status = 'pending'", "6021"
    )
    assert attempts == 1 and not_before is not None


async def test_a_blocked_recipient_is_marked_unreachable_and_the_sender_of_a_notification_told(
    emulator: BotApiEmulator, service: Service, core: Core
) -> None:
    citizen, volunteer = User(emulator, chat_id=6031), User(emulator, chat_id=6032)
    emulator.open_chat(citizen.chat_id)
    emulator.open_chat(volunteer.chat_id)
    emulator.inject_error("sendMessage", status=403, chat_id=citizen.chat_id)
    bounce = Outbound("Không gửi được tin nhắn cho người dân.", to=Recipient("telegram", "6032"), key="b1")
    message = Outbound("Tình nguyện viên Nam sẽ gọi anh/chị.", undeliverable=bounce)
    now = core.services.clock()
    async with core.db.transaction() as conn:
        items = await outbox.add(conn, [NewMessage(Recipient("telegram", "6031"), message, "n1", NOTIFY)], now)
        items += await outbox.add(
            conn, [NewMessage(Recipient("telegram", "6031"), Outbound("Tin thứ hai"), "n2", NOTIFY)], now
        )
    service.deliver(items)
    assert (await volunteer.reply()).text == "Không gửi được tin nhắn cho người dân."
    await until_rows(core, "SELECT count(*) FROM outbox WHERE status = 'pending'", [(0,)])
    assert await rows(core, "SELECT dedupe_key, status, error FROM outbox WHERE chat_id = '6031' ORDER BY id") == [
        ("n1", "failed", "unreachable"),
        ("n2", "failed", "unreachable"),
    ]
    async with core.db.transaction() as conn:
        assert await sessions.unreachable(conn, Recipient("telegram", "6031"))
    await citizen.send("/start")  # writing again makes them reachable again
    assert (await citizen.reply()).labels == WELCOME
    async with core.db.transaction() as conn:
        assert not await sessions.unreachable(conn, Recipient("telegram", "6031"))


async def test_a_reply_committed_but_not_sent_before_a_crash_is_sent_at_restart(
    emulator: BotApiEmulator, settings: Settings, clock: Clock
) -> None:
    core = await build_core(settings, clock=clock)
    service = await start_service(core, emulator)
    service.deliver = lambda items: None  # type: ignore[method-assign]  # the crash: rows never reach the sender
    core.engine.on_outbox = service.deliver
    service.intake._deliver = service.deliver
    user = User(emulator, chat_id=6041)
    await user.send("/start")
    await until_rows(core, "SELECT status FROM outbox WHERE chat_id = '6041'", [("pending",)])
    assert await rows(core, "SELECT status FROM inbox") == [("done",)]  # the turn ran; its reply waits
    await service.stop()
    assert emulator.actions(6041) == []

    service = await start_service(await build_core(settings, clock=clock), emulator)
    try:
        assert (await user.reply()).labels == WELCOME
    finally:
        await service.stop()


async def test_a_send_whose_answer_is_lost_is_not_sent_again(
    emulator: BotApiEmulator, service: Service, core: Core
) -> None:
    """Telegram got the message but the answer never came back: one copy, recorded as `unknown`."""
    user = User(emulator, chat_id=6051)
    emulator.lose_answer("sendMessage", chat_id=user.chat_id)
    await user.send("/start")
    await user.replies()
    await until_rows(core, "SELECT count(*) FROM outbox WHERE status = 'unknown'", [(1,)])
    await asyncio.sleep(0.3)
    assert len([a for a in emulator.actions(6051) if a.kind == "send"]) == 1
    await user.send("/help")  # the chat goes on normally
    assert "Cách dùng" in (await user.reply()).text


async def test_an_edit_whose_answer_is_lost_is_simply_repeated(emulator: BotApiEmulator, service: Service) -> None:
    user = User(emulator, chat_id=6052)
    await user.send("/start guide-dvc-login")
    await user.reply()
    emulator.lose_answer("editMessageText", chat_id=user.chat_id)
    await user.press("🔑 Mật khẩu + mã xác nhận")
    assert "Bước 2/" in (await user.reply()).text
    assert len(user.screen()) == 1  # no second copy: an edit repeated changes nothing


async def test_network_errors_and_5xx_are_retried_until_delivered(emulator: BotApiEmulator, service: Service) -> None:
    user = User(emulator, chat_id=6061)
    emulator.inject_error("sendMessage", status=502, chat_id=user.chat_id, count=2)
    await user.send("/start")
    assert (await user.reply()).labels == WELCOME


async def test_a_long_outage_loses_no_message(emulator: BotApiEmulator, core: Core) -> None:
    """Telegram down for 30 failed sends in a row (minutes, with real backoff): the reply still goes out."""
    from bot.sender import Limits

    service = await start_service(core, emulator, limits=Limits(per_second=0, backoff=0.01, max_backoff=0.05))
    try:
        user = User(emulator, chat_id=6062)
        emulator.inject_error("sendMessage", status=502, count=30)
        await user.send("/start")
        assert (await user.reply()).labels == WELCOME
        assert emulator.stats["sendMessage"] == 31
    finally:
        await service.stop()


async def test_a_send_in_flight_at_stop_lands_and_is_recorded(emulator: BotApiEmulator, core: Core) -> None:
    """Shutdown stops receiving first and closes the HTTP client last: the send on the wire completes."""
    service = await start_service(core, emulator)
    chat = 6063
    emulator.open_chat(chat)
    real_call, started = emulator.call, asyncio.Event()

    async def slow_call(method: str, params: Any, closed: asyncio.Event) -> Any:
        if method.lower() == "sendmessage":
            started.set()
            await asyncio.sleep(0.5)  # Telegram takes its time to answer
        return await real_call(method, params, closed)

    emulator.call = slow_call  # type: ignore[method-assign]
    to = Recipient("telegram", str(chat))
    async with core.db.transaction() as conn:
        items = await outbox.add(conn, [NewMessage(to, Outbound("Trả lời"), "r1")], core.services.clock())
    service.deliver(items)
    await asyncio.wait_for(started.wait(), 5)
    statuses: list[tuple[Any, ...]] = []
    real_close = core.db.close

    async def close_and_look() -> None:
        core.db.close = real_close  # type: ignore[method-assign]
        async with core.db.transaction() as conn:
            statuses.extend(tuple(r) for r in await conn.execute_fetchall("SELECT status FROM outbox"))
        await real_close()

    core.db.close = close_and_look  # type: ignore[method-assign]
    await service.stop()
    assert statuses == [("sent",)] and len([a for a in emulator.actions(chat) if a.kind == "send"]) == 1


async def test_a_429_on_get_updates_is_waited_out(emulator: BotApiEmulator, service: Service) -> None:
    emulator.inject_error("getUpdates", status=429, retry_after=1)
    user = User(emulator, chat_id=6064)
    await user.send("/start")
    assert (await user.replies(timeout=8))[0].labels == WELCOME
    assert service.failure is None


async def test_replies_go_before_bulk_and_bulk_is_paced_per_chat(emulator: BotApiEmulator, core: Core) -> None:
    from bot.sender import Limits
    from bot.store.outbox import BULK

    service = await start_service(core, emulator, limits=Limits(per_second=0, bulk_chat_interval=0.3, poll=0.2))
    try:
        chat = 6071
        emulator.open_chat(chat)
        now = core.services.clock()
        async with core.db.transaction() as conn:
            bulk = await outbox.add(
                conn,
                [
                    NewMessage(Recipient("telegram", str(chat)), Outbound(f"Thông báo {i}"), f"a{i}", BULK)
                    for i in range(3)
                ],
                now,
            )
        service.deliver(bulk)
        user = User(emulator, chat_id=chat)
        await user.send("/help")
        texts = [r.text for r in await user.replies(count=4, quiet=0.2, timeout=5)]
        assert texts.index(next(t for t in texts if "Cách dùng" in t)) < texts.index("Thông báo 2")
        stamps = [a.at for a in emulator.actions(chat) if a.text and a.text.startswith("Thông báo")]
        assert all(b - a >= 0.25 for a, b in itertools.pairwise(stamps))
    finally:
        await service.stop()


# ---- start-up and shutdown ----------------------------------------------------------------------------


async def test_start_up_with_the_api_down_retries_then_serves(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    emulator = BotApiEmulator()
    await emulator.start()
    port = emulator.port
    await emulator.stop()  # the network is not up yet
    from bot.channels.telegram import TelegramChannel
    from tests.conftest import telegram_options

    down = BotApiEmulator(port=port)
    channel = TelegramChannel(telegram_options(down))
    service = Service(core, [channel], limits={"telegram": FAST}, scheduler=False)
    await service.start()
    try:
        await eventually(lambda: any("unreachable" in r.getMessage() for r in caplog.records))
        assert not channel.ready.is_set()
        await down.start()  # the network comes up
        await asyncio.wait_for(channel.ready.wait(), timeout=5)
        user = User(down, chat_id=6081)
        await user.send("/start")
        assert (await user.reply()).labels == WELCOME
    finally:
        await service.stop()
        await down.stop()


async def test_a_rejected_token_stops_the_service_with_a_clear_message(emulator: BotApiEmulator, core: Core) -> None:
    from bot.channels.telegram import TelegramChannel, TelegramOptions

    channel = TelegramChannel(TelegramOptions(token="999:WRONG-TOKEN-abcdefghijklmnop", base_url=emulator.base_url))
    service = Service(core, [channel], limits={"telegram": FAST}, scheduler=False)
    await service.start()
    try:
        failure = await asyncio.wait_for(service.wait(), timeout=5)
    finally:
        await service.stop()
    assert failure is not None and "rejected" in failure and "WRONG" not in failure


# ---- heavy work off the turn --------------------------------------------------------------------------


async def test_a_small_export_runs_in_a_thread_outside_the_write_lock(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the export is being built, other people's turns still run (and commit)."""
    from bot.flows import roster as roster_flow
    from tests.team_fixtures import build_team

    team = await build_team(core)
    building, release = threading.Event(), threading.Event()
    real_export = roster_flow.export_roster

    def slow_export(conn: Any, **kwargs: Any) -> Any:
        assert threading.current_thread() is not threading.main_thread()
        building.set()
        release.wait(5)
        return real_export(conn, **kwargs)

    monkeypatch.setattr(roster_flow, "export_roster", slow_export)
    await team.officer.press_data("exhy")
    running = asyncio.create_task(core.run_tasks())
    await asyncio.to_thread(building.wait, 5)
    replies = await asyncio.wait_for(team.citizen.command("start"), timeout=2)  # the lock is free
    assert "Xin chào" in replies[0].text
    release.set()
    [file] = await running
    assert file.message.attachment is not None and file.to == team.officer.recipient


async def test_a_big_roster_is_parsed_and_exported_in_the_worker_process(core: Core) -> None:
    """Seconds of pure Python (6,000 rows) go to the worker process: the loop's thread never runs them."""
    import io

    import openpyxl

    from tests.team_fixtures import build_team

    team = await build_team(core)
    lines = ["Mã hộ,Họ tên chủ hộ,Thôn,Địa chỉ,Số nhân khẩu,Ưu tiên"]
    lines += [f"B{i:05d},Nguyễn Thị Bé {i},Thôn 2,Xóm Bắc số {i},3," for i in range(6000)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) > 256 * 1024
    await team.officer.upload("lon.csv", data)
    assert "6000 hộ mới" in team.officer.text
    assert core.services.heavy.started  # the parse ran in the worker process
    await team.officer.press_data("exhy")
    [file] = await core.run_tasks()
    assert file.message.attachment is not None
    sheet = openpyxl.load_workbook(io.BytesIO(file.message.attachment.content), read_only=True).active
    assert sheet is not None
    codes = {row[0] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert len(codes) == 6005 and "B05999" in codes


# ---- logs ----------------------------------------------------------------------------------------------


async def test_debug_logs_of_a_whole_session_carry_no_token_and_no_personal_data(
    emulator: BotApiEmulator, core: Core, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from bot import logs
    from tests.team_fixtures import ROSTER_CSV, invite_code

    logs.configure("DEBUG", [emulator.token])
    caplog.set_level(logging.DEBUG)
    service = await start_service(core, emulator)
    try:
        code = await invite_code(core, role="officer", village_ids=[], label="Cán bộ Hoa")
        officer = User(emulator, chat_id=6091)
        await officer.send(f"/join {code}")
        await officer.reply()
        await officer.send_document("ds.csv", ROSTER_CSV.encode())
        await officer.reply()
        citizen = User(emulator, chat_id=6092)
        for text in ("số của tôi 0912 345 678", "cccd 001088012345", "OTP 482913", "khai sinh cho con"):
            await citizen.send(text)
            await citizen.reply()
        await officer.press("🛠 Quản lý (cán bộ xã)")
        await officer.reply()
    finally:
        await service.stop()
        logging.getLogger().setLevel(logging.WARNING)
    written = capsys.readouterr().err
    raw = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "DEBUG" in written  # the level really was DEBUG
    for secret in (
        emulator.token,
        code,
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Xóm Đông",
        "0912 345 678",
        "001088012345",
        "482913",
        "khai sinh",
    ):
        assert secret not in written, secret
        assert secret not in raw, secret


def test_redaction_of_what_slips_through() -> None:
    from bot.logs import redact

    line = redact("GET /bot123456:AAbbCCddEEffGGhhIIjjKK/sendMessage for 0912345678 code ABCD-EFGH", ["AAbb"])
    assert "AAbb" not in line and "0912345678" not in line and "ABCD-EFGH" not in line
    assert redact("2026-11-23 08:40:32 inbox 12") == "2026-11-23 08:40:32 inbox 12"


def test_tracebacks_are_logged_without_exception_messages(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import logs

    logs.configure("INFO")
    cell = "".join(["Nguyễn Văn An", ", Xóm Đông"])  # what a file's cell said
    try:
        try:
            raise ValueError(cell)
        except ValueError as exc:
            raise RuntimeError(f"while importing {cell}") from exc
    except RuntimeError:
        logging.getLogger("bot.test").exception("import %d failed", 7)
    written = capsys.readouterr().err
    assert "import 7 failed" in written and "builtins.ValueError" in written and "RuntimeError" in written
    assert "Nguyễn" not in written and "Xóm" not in written


def test_timedelta_is_used_for_ptb_retry_after() -> None:
    from telegram.error import RetryAfter

    from bot.channels.telegram import classify

    result = classify(RetryAfter(timedelta(seconds=7)), repeatable=False)
    assert getattr(result, "after", None) == 7.0
