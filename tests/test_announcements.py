"""📢 Announcements: an officer writes, chooses who and when, confirms; the scheduler expands it into the
outbox in batches — once per person across re-runs and restarts — progress is shown and it can be
cancelled; and through the emulator, with 429s and 5xx and a restart half-way, everyone gets it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.messages import Recipient
from bot.sandbox.emulator import BotApiEmulator
from bot.sender import Limits
from bot.store import announcements, subscriptions
from scheduler import jobs
from tests.conftest import Clock, start_service
from tests.people import Person
from tests.team_fixtures import Team, build_team

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo

HN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
async def team(core: Core) -> Team:
    return await build_team(core)


async def subscribe(core: Core, chats: range, village_id: int | None, channel: str = "telegram") -> None:
    async with core.db.transaction() as conn:
        for chat in chats:
            await subscriptions.subscribe(
                conn, Recipient(channel, str(chat)), "11242", village_id, core.services.clock()
            )


async def outbox_rows(core: Core, prefix: str = "ann:") -> list[tuple[str, str, str]]:
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id, status, dedupe_key FROM outbox WHERE dedupe_key LIKE ? ORDER BY id", (f"{prefix}%",)
        )
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]


async def announce_now(core: Core, text: str, now: datetime) -> None:
    """An announcement to everyone, due now, by an officer written straight into the database."""
    async with core.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO members (id, channel, chat_id, commune, role, label, joined_at)"
            " VALUES (1, 'telegram', '900', '11242', 'officer', 'Cán bộ', 'x')"
        )
        await announcements.create(conn, commune="11242", text=text, village_id=None, send_at=now, member_id=1, now=now)


async def write(officer: Person, text: str, audience: str) -> None:
    await officer.press_data("mg")
    await officer.press("📢 Gửi thông báo")
    await officer.send(text)
    await officer.press(audience)


async def test_an_officer_sends_to_a_village_now_and_each_subscriber_gets_it_once(team: Team, core: Core) -> None:
    thon1, thon2 = team.village_ids["Thôn 1"], team.village_ids["Thôn 2"]
    await subscribe(core, range(5000, 5003), None)  # the whole commune
    await subscribe(core, range(5100, 5104), thon1)
    await subscribe(core, range(5200, 5202), thon2)
    officer = team.officer
    await write(
        officer,
        "Thứ Bảy này 8h, nhà văn hoá thôn hướng dẫn cài VNeID mức 2. Mang theo căn cước gắn chip.",
        "🏘 Thôn 1 (7 người)",
    )
    assert "👥 Mọi người đăng ký (9 người)" not in officer.labels  # already past that screen
    await officer.press("📤 Gửi ngay")
    assert "Gửi cho: Thôn 1 (7 người), ngay bây giờ" in officer.text
    await officer.press("✅ Gửi thông báo")
    assert "Đã lưu thông báo #1" in officer.text
    await officer.press_data("ay")  # a second tap: nothing more
    assert "đã kết thúc" in officer.text

    assert await jobs.send_announcements(core, core.services.clock()) == 7
    rows = await outbox_rows(core)
    assert sorted(chat for chat, _, _ in rows) == [str(c) for c in [*range(5000, 5003), *range(5100, 5104)]]
    assert await jobs.send_announcements(core, core.services.clock()) == 0  # a re-run adds nothing
    async with core.db.transaction() as conn:
        [item] = await announcements.recent(conn, "11242")
    assert item.status == "queued" and item.total == 7


async def test_a_restart_half_way_through_queueing_resumes_without_duplicates(
    team: Team, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(core, range(10_000, 11_200), None)
    async with core.db.transaction() as conn:
        await announcements.create(
            conn,
            commune="11242",
            text="Lịch tiêm chủng",
            village_id=None,
            send_at=core.services.clock(),
            member_id=1,
            now=core.services.clock(),
        )
    real, calls = core.engine.notify, 0

    async def crash_on_second_batch(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the process was killed")
        return await real(*args, **kwargs)

    monkeypatch.setattr(core.engine, "notify", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        await jobs.send_announcements(core, core.services.clock(), batch=500)
    assert len(await outbox_rows(core)) == 500
    monkeypatch.setattr(core.engine, "notify", real)
    await jobs.send_announcements(core, core.services.clock(), batch=500)
    keys = [key for _, _, key in await outbox_rows(core)]
    assert len(keys) == 1200 == len(set(keys))


async def test_a_time_in_the_future_waits_and_bad_times_are_explained(team: Team, core: Core, clock: Clock) -> None:
    await subscribe(core, range(5000, 5002), None)
    officer = team.officer
    await write(officer, "Họp dân cuối năm", "👥 Mọi người đăng ký")
    for bad in ("mai nhé", "31/02 07:30", "01/01/2020 07:30", "24/12/2027 07:30"):
        await officer.send(bad)
        assert "ví dụ: 25/12 07:30" in officer.text, bad
    await officer.send("25/11 7h30")
    assert "07:30 25/11/2026" in officer.text
    await officer.press("✅ Gửi thông báo")
    # The server's clock is UTC; the typed time was Hà Nội's.
    assert await jobs.send_announcements(core, datetime(2026, 11, 25, 7, 29, tzinfo=HN).astimezone(UTC)) == 0
    assert await jobs.send_announcements(core, datetime(2026, 11, 25, 7, 30, tzinfo=HN).astimezone(UTC)) == 2


async def test_progress_and_cancel(team: Team, core: Core) -> None:
    await subscribe(core, range(7000, 7010), None)
    officer = team.officer
    await write(officer, "Thông báo mất điện", "👥 Mọi người đăng ký (10 người)")
    await officer.press("📤 Gửi ngay")
    await officer.press("✅ Gửi thông báo")
    await jobs.send_announcements(core, core.services.clock())
    async with core.db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'sent' WHERE id IN (SELECT id FROM outbox WHERE dedupe_key LIKE 'ann:%'"
            " ORDER BY id LIMIT 4)"
        )
    await officer.press_data("ao")
    assert "#1 · Thông báo mất điện… — đã gửi 4/10" in officer.text
    await team.volunteer.press_data("ac:1")  # not an officer: refused
    assert "dành cho" in team.volunteer.text
    await officer.press("✖ Huỷ thông báo #1")
    assert "6 tin chưa gửi sẽ không gửi nữa" in officer.text
    statuses = [status for _, status, _ in await outbox_rows(core)]
    assert statuses.count("sent") == 4 and statuses.count("cancelled") == 6
    await officer.press_data("ao")
    assert "đã huỷ (đã gửi 4/10)" in officer.text


async def test_through_the_emulator_with_429s_5xx_and_a_restart_everyone_gets_it_once(
    emulator: BotApiEmulator, core: Core, clock: Clock, settings: Settings
) -> None:
    """60 subscribers; Telegram answers some sends with 429 or 502; the bot is stopped half-way and
    started again. Every chat ends with exactly one copy."""
    clock.now = datetime.now(UTC)
    chats = range(8000, 8060)
    for chat in chats:
        emulator.open_chat(chat)
    await subscribe(core, chats, None)
    await announce_now(core, "Mời bà con dự buổi hướng dẫn dịch vụ công", clock.now)
    emulator.inject_error("sendMessage", status=429, retry_after=1, count=3)
    emulator.inject_error("sendMessage", status=502, count=3)
    limits = Limits(per_second=40, bulk_chat_interval=0, backoff=0.05, max_backoff=0.3, poll=0.1)
    service = await start_service(core, emulator, limits=limits)
    try:
        await jobs.send_announcements(core, clock.now)
        for _ in range(100):  # until about half went out
            if sum(1 for c in chats if emulator.messages(c)) >= 25:
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    half = sum(1 for c in chats if emulator.messages(c))
    assert 0 < half < len(chats)  # stopped in the middle
    emulator.inject_error("sendMessage", status=429, retry_after=1, count=2)
    core = await build_core(settings, clock=clock)  # the process again, on the same database
    service = await start_service(core, emulator, limits=limits)
    try:
        for _ in range(300):
            if all(emulator.messages(c) for c in chats):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # anything extra would show now
        assert all(status == "sent" for _, status, _ in await outbox_rows(core))
    finally:
        await service.stop()
    copies = {c: len([m for m in emulator.messages(c) if "hướng dẫn dịch vụ công" in m.text]) for c in chats}
    assert set(copies.values()) == {1}, copies


async def test_cancelling_stops_what_the_sender_already_holds(
    emulator: BotApiEmulator, core: Core, team: Team, clock: Clock
) -> None:
    clock.now = datetime.now(UTC)
    chats = range(9000, 9030)
    for chat in chats:
        emulator.open_chat(chat)
    await subscribe(core, chats, None)
    service = await start_service(core, emulator, limits=Limits(per_second=10, bulk_chat_interval=0, poll=0.1))
    try:
        await write(team.officer, "Lịch tiếp dân", "👥 Mọi người đăng ký")
        await team.officer.press("📤 Gửi ngay")
        await team.officer.press("✅ Gửi thông báo")
        await jobs.send_announcements(core, clock.now)
        await asyncio.sleep(0.4)  # a few go out, the rest wait in the sender's queue
        await team.officer.press_data("ac:1")
        await asyncio.sleep(1.0)
        got = sum(1 for c in chats if emulator.messages(c))
        statuses = [status for _, status, _ in await outbox_rows(core)]
    finally:
        await service.stop()
    assert 0 < got < len(chats) and statuses.count("sent") == got
    assert statuses.count("cancelled") == len(chats) - got


async def test_an_announcement_already_sent_in_full_cannot_be_cancelled_after_the_fact(team: Team, core: Core) -> None:
    await subscribe(core, range(7100, 7103), None)
    officer = team.officer
    await write(officer, "Lịch làm căn cước lưu động", "👥 Mọi người đăng ký (3 người)")
    await officer.press("📤 Gửi ngay")
    await officer.press("✅ Gửi thông báo")
    await jobs.send_announcements(core, core.services.clock())
    async with core.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET status = 'sent' WHERE dedupe_key LIKE 'ann:%'")
    await officer.press_data("ac:1")  # an old button, or a forged one
    assert "đã gửi xong hết" in officer.text
    await officer.press_data("ao")
    assert "đã gửi 3/3" in officer.text and "Huỷ thông báo #1" not in " ".join(officer.labels)


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_an_announcement_with_a_photo_reaches_telegram_subscribers_as_that_photo(
    emulator: BotApiEmulator, core: Core, team: Team, clock: Clock
) -> None:
    """The officer sends a photo (Telegram keeps it; the bot never downloads it), then the text; each
    Telegram subscriber gets the photo with the text as caption, others the text alone."""
    clock.now = datetime.now(UTC)
    officer = team.officer
    emulator.open_chat(900)
    sent = emulator.send_media(900, "photo")  # the officer's own photo, as Telegram holds it
    photo_id = sent["message"]["photo"][-1]["file_id"]
    await officer.press_data("ao")
    await officer.send_photo(photo_id)
    assert "Đã nhận ảnh" in officer.text
    await officer.send("x" * 901)  # a caption has less room
    assert "từ 1 đến 900" in officer.text
    await officer.send("Sơ đồ điểm làm căn cước lưu động sáng Chủ nhật")
    await officer.press("👥 Mọi người đăng ký")
    await officer.press("📤 Gửi ngay")
    assert "kèm 1 ảnh" in officer.text
    await officer.press("✅ Gửi thông báo")
    for chat in (9500, 9501):
        emulator.open_chat(chat)
    await subscribe(core, range(9500, 9502), None)
    await subscribe(core, range(9600, 9601), None, channel="zalo")
    await jobs.send_announcements(core, clock.now)
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT channel, payload FROM outbox WHERE dedupe_key LIKE 'ann:%'")
    assert {str(r[0]): (photo_id in str(r[1])) for r in rows} == {"telegram": True, "zalo": False}
    service = await start_service(core, emulator)
    try:
        for _ in range(100):
            if all(emulator.messages(c) for c in (9500, 9501)):
                break
            await asyncio.sleep(0.05)
    finally:
        await service.stop()
    for chat in (9500, 9501):
        [message] = emulator.messages(chat)
        assert message.kind == "photo" and "Sơ đồ điểm làm căn cước" in (message.text or "")


async def test_a_second_photo_or_text_at_the_audience_step_keeps_the_draft(team: Team, core: Core) -> None:
    officer = team.officer
    await officer.press_data("ao")
    await officer.send_photo("photo-1", caption="Lịch tiêm phòng dại cho chó mèo")
    assert "Gửi cho ai?" in officer.text
    await officer.send_photo("photo-2")  # the rest of an album
    assert "1 ảnh" in officer.text and "Gửi cho ai?" in officer.text
    await officer.send("thôn 1")
    assert "bấm chọn người nhận" in officer.text
    await officer.press("👥 Mọi người đăng ký")
    await officer.press("📤 Gửi ngay")
    assert "Lịch tiêm phòng dại" in officer.text and "kèm 1 ảnh" in officer.text


async def _bulk_delivery(
    emulator: BotApiEmulator, core: Core, clock: Clock, chats: range, *, fails: int
) -> tuple[int, int]:
    """Queue a bulk message to each chat with `fails` 429s (retry after 3 s) injected first; how many chats
    have it after 1 s, and after all of it went."""
    clock.now = datetime.now(UTC)
    for chat in chats:
        emulator.open_chat(chat)
    await subscribe(core, chats, None)
    await announce_now(core, "Tin thử", clock.now)
    emulator.inject_error("sendMessage", status=429, retry_after=3, count=fails)
    service = await start_service(core, emulator, limits=Limits(per_second=0, bulk_chat_interval=0, poll=0.1))
    try:
        await jobs.send_announcements(core, clock.now)
        await asyncio.sleep(1.0)
        early = sum(1 for c in chats if emulator.messages(c))
        for _ in range(120):
            if all(emulator.messages(c) for c in chats):
                break
            await asyncio.sleep(0.05)
        return early, sum(1 for c in chats if emulator.messages(c))
    finally:
        await service.stop()


async def test_a_lone_429_holds_back_only_its_chat(emulator: BotApiEmulator, core: Core, clock: Clock) -> None:
    chats = range(9700, 9740)
    early, done = await _bulk_delivery(emulator, core, clock, chats, fails=1)
    assert early == len(chats) - 1 and done == len(chats)  # the others went at once; that one after 3 s


async def test_many_429s_within_a_second_pause_all_bulk(emulator: BotApiEmulator, core: Core, clock: Clock) -> None:
    chats = range(9800, 9840)
    early, done = await _bulk_delivery(emulator, core, clock, chats, fails=12)
    assert early < len(chats) - 12 and done == len(chats)  # the platform said "too much": bulk waited
