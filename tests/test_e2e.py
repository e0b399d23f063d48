"""End to end, over HTTP: the real Telegram and Zalo channels against the local Bot API emulators.

Every scenario runs twice, as a person on Telegram (buttons) and on Zalo (numbered menus, answered by
typing the number); what differs is only what the platform can show (edits, a row of stars).
"""

from __future__ import annotations

import pytest

from bot.app import Core, build_core
from bot.config import Settings
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User, ZaloUser
from bot.sandbox.zalo_emulator import ZaloEmulator
from tests.conftest import Clock, start_service

MENU = ["📘 Hướng dẫn theo chủ đề", "🔎 Hỏi bằng lời", "🙋 Nhờ hỗ trợ", "☎️ Liên hệ xã", "🔔 Thông báo của xã"]
WELCOME = [*MENU, "🙇 Em nên gọi anh/chị là…"]  # until the person has said how to be addressed


Person = User | ZaloUser


@pytest.fixture(params=["telegram", "zalo"])
def user(
    request: pytest.FixtureRequest, emulator: BotApiEmulator, zalo_emulator: ZaloEmulator, service: Service
) -> Person:
    if request.param == "zalo":
        return ZaloUser(zalo_emulator, chat_id="1001")
    return User(emulator, chat_id=1001)


def on_telegram(user: Person) -> bool:
    return isinstance(user, User)


async def test_start_shows_welcome_menu_and_commands_are_registered(user: Person, emulator: BotApiEmulator) -> None:
    await user.send("/start")
    reply = await user.reply()
    assert "Xã Nguyễn Lương Bằng" in reply.text
    assert reply.labels == WELCOME
    if on_telegram(user):
        assert [c["command"] for c in emulator.commands] == ["start", "menu", "help", "xungho", "requests", "mydata"]
    await user.send("/menu")
    assert (await user.reply()).labels == MENU
    await user.send("/help")
    help_reply = await user.reply()
    assert "Cách dùng" in help_reply.text and help_reply.labels == MENU


async def test_walk_a_guide_forward_and_back_edited_in_place_then_rate(
    user: Person, core: Core, emulator: BotApiEmulator
) -> None:
    await user.send("/start")
    await user.reply()
    await user.press("📘 Hướng dẫn theo chủ đề")
    topics = await user.reply()
    assert topics.kind == "send"  # the welcome (with its anti-scam warning) stays on screen
    telegram = on_telegram(user)  # Telegram edits the guide message in place; Zalo sends each step
    await user.press("🪪 VNeID – tài khoản định danh")
    await user.reply()
    await user.press("Cài VNeID và đăng ký tài khoản")
    question = await user.reply()
    assert "Bước 1/8" in question.text and question.kind == ("edit" if telegram else "send")
    assert "gắn chip" in question.text and "✅ Xong" not in question.labels  # a question first, no way out but
    await user.press("✅ Có thẻ gắn chip rồi")  # an answer, help or the menu
    step2 = await user.reply()
    assert "Bước 2/8" in step2.text and (step2.message_id == question.message_id or not telegram)
    await user.press("Tiếp ▶")
    assert "Bước 3/8" in (await user.reply()).text
    await user.press("◀ Trước")
    assert "Bước 2/8" in (await user.reply()).text
    await user.press("◀ Trước")
    assert "gắn chip" in (await user.reply()).text  # back to the question
    await user.press("✅ Có thẻ gắn chip rồi")
    assert "Bước 2/8" in (await user.reply()).text
    if telegram:
        assert len(user.screen()) == 2  # welcome + one guide message, edited in place: no flood
    await user.press("✅ Xong")
    ask = await user.reply()
    assert "Hướng dẫn có giúp được anh/chị không?" in ask.text
    assert ask.labels[:5] == ["⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    await user.press("5 ⭐")
    assert "5★" in (await user.reply()).text
    assert emulator.callback_answers or not telegram, "button presses are answered so the spinner stops"
    async with core.db.transaction() as conn:
        rows = await (await conn.execute("SELECT subject_id, stars FROM ratings")).fetchall()
    assert [tuple(r) for r in rows] == [("vneid-register", 5)]


@pytest.mark.telegram_only  # Zalo bots have no start payload: Zalo posters open the Telegram bot
async def test_deep_link_opens_the_guide(user: Person) -> None:
    await user.send("/start guide-vneid-register")
    reply = await user.reply()
    assert reply.text.startswith("📘 Cài VNeID và đăng ký tài khoản\nBước 1/8")
    await user.send("/start guide-does-not-exist")
    assert "không tìm thấy" in (await user.reply()).text.lower()


async def test_typed_questions_are_answered_then_followed_up_in_context(user: Person) -> None:
    await user.send("hổng biết đăng ký vneid răng")  # Central dialect, no punctuation
    reply = await user.reply()
    assert reply.text.startswith("📘 Cài VNeID và đăng ký tài khoản\nBước 1/")
    await user.send("tien bi tru roi ma ho so bao chua thanh toan")
    quick = await user.reply()
    assert "Đừng trả lần 2" in quick.text and "mã giao dịch" in quick.text
    assert "📘 Xem cả hướng dẫn: Nộp phí, lệ phí trực tuyến" in quick.labels
    await user.send("lam giay khai sinh cho be")
    assert (await user.reply()).text.startswith("📘 Khai sinh cho con")
    await user.send("mất bao lâu, có mất tiền k")  # a follow-up: about the guide being read
    follow = await user.reply()
    assert follow.text.startswith("❓") and "Khai sinh cho con" in " ".join(follow.labels)


async def test_off_topic_gets_topics_help_and_contact(user: Person, core: Core) -> None:
    await user.send("giá vàng hôm nay bao nhiêu")
    reply = await user.reply()
    assert "chưa hiểu" in reply.text and "0225" in reply.text
    topics = [t.title for t in core.services.content.topics]
    assert reply.labels == [*topics, "🙋 Nhờ hỗ trợ", "🏠 Menu"]


@pytest.mark.parametrize("kind", ["voice", "sticker", "photo", "document"])
async def test_unsupported_messages_get_a_polite_explanation(user: Person, kind: str) -> None:
    await user.send_media(kind)
    reply = await user.reply()
    assert "chỉ đọc được chữ, chưa nghe" in reply.text and reply.labels == MENU


async def test_help_and_contact_show_the_office(user: Person) -> None:
    await user.send("/start")
    await user.reply()
    await user.press("☎️ Liên hệ xã")
    contact = await user.reply()
    assert "Địa chỉ" in contact.text and "Giờ làm việc" in contact.text and "0225" in contact.text
    await user.press("🙋 Nhờ hỗ trợ")
    assert "bước 1/4" in (await user.reply()).text  # the help request starts with the village


@pytest.mark.telegram_only  # Zalo has no callback data to forge; its off-menu numbers: test_zalo.py
async def test_forged_and_stale_buttons(user: Person, emulator: BotApiEmulator) -> None:
    assert isinstance(user, User)
    await user.send("/start")
    await user.reply()
    await user.press_data("r:vneid-register:99")
    assert "Nút này đã cũ" in (await user.reply()).text
    await user.press_data("g:vneid-register:40")
    replies = await user.replies(count=2)
    assert "không còn" in replies[0].text and "Bước 1/8" in replies[1].text
    await user.press_data("x" * 64)
    assert "Nút này đã cũ" in (await user.reply()).text


async def test_same_update_delivered_twice_is_answered_once(
    user: Person, emulator: BotApiEmulator, zalo_emulator: ZaloEmulator
) -> None:
    await user.send("/start")
    await user.reply()
    if isinstance(user, User):
        emulator.redeliver(emulator.send_text(user.chat_id, "/help"))
    else:  # Zalo has no update id: the event name and message id tell a redelivery
        zalo_emulator.redeliver(zalo_emulator.send_text(user.chat_id, "/help"))
    await user.send("/menu")  # a later update: once it is answered, both earlier ones were handled
    replies = await user.replies(count=1, quiet=1.0)
    assert replies[-1].labels == MENU
    texts = [m.text for m in user.screen()] if isinstance(user, ZaloUser) else []
    texts += [a.text or "" for a in emulator.actions(1001) if a.kind == "send"] if on_telegram(user) else []
    assert sum("Cách dùng" in t for t in texts) == 1
    assert replies


async def test_restart_in_the_middle_of_a_guide(emulator: BotApiEmulator, settings: Settings, clock: Clock) -> None:
    service = await start_service(await build_core(settings, clock=clock), emulator)
    user = User(emulator, chat_id=2002)
    await user.send("/start guide-dvc-login")
    await user.reply()
    await user.press("🔑 Mật khẩu + mã xác nhận")
    assert "Bước 2/" in (await user.reply()).text
    await service.stop()

    service = await start_service(await build_core(settings, clock=clock), emulator)
    try:
        await user.press("Tiếp ▶")  # the old message's button still works
        assert "Bước 3/" in (await user.reply()).text
        await user.send("/start")
        menu = await user.reply()
        assert menu.labels[0].startswith("▶ Tiếp tục: ") and "Bước 3/" in menu.labels[0]
        await user.press(menu.labels[0])
        assert "Bước 3/" in (await user.reply()).text
    finally:
        await service.stop()


async def test_a_429_is_waited_out_and_retried(
    user: Person, emulator: BotApiEmulator, zalo_emulator: ZaloEmulator
) -> None:
    if on_telegram(user):
        emulator.inject_error("sendMessage", status=429, retry_after=1)
    else:
        zalo_emulator.inject_error("sendMessage", 429, count=2)  # Zalo gives no retry_after: our backoff
    await user.send("/start")
    reply = await user.reply()
    assert reply.labels == WELCOME
    assert len(user.screen()) == 1  # sent once, not once per attempt


async def test_long_text_gets_a_short_answer(user: Person) -> None:
    await user.send("a" * 4096)
    assert "dài quá" in (await user.reply()).text


async def test_volunteer_logs_a_visit_through_telegram(emulator: BotApiEmulator, service: Service, core: Core) -> None:
    from tests.team_fixtures import ROSTER_CSV, invite_code

    officer = User(emulator, chat_id=4001)
    await officer.send("/join " + await invite_code(core, role="officer", village_ids=[], label="Cán bộ Hoa"))
    assert "Chào mừng Cán bộ Hoa" in (await officer.reply()).text
    await officer.send_document("danh-sach.csv", ROSTER_CSV.encode())
    assert "5 hộ mới" in (await officer.reply()).text

    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT id FROM villages WHERE name = 'Thôn 1'")
    volunteer = User(emulator, chat_id=4002)
    code = await invite_code(core, role="volunteer", village_ids=[int(next(iter(rows))[0])], label="Nam")
    await volunteer.send(f"/join {code}")
    welcome = await volunteer.reply()
    assert "📝 Ghi nhận hỗ trợ hộ" in welcome.labels
    await volunteer.press("📝 Ghi nhận hỗ trợ hộ")
    await volunteer.reply()
    await volunteer.send("nguyen van an")
    found = await volunteer.reply()
    await volunteer.press(found.labels[0])
    assert "Người được hướng dẫn nay làm được gì" in (await volunteer.reply()).text
    for label in (
        "☐ Tài khoản mức 2 đã kích hoạt",
        "☐ Đăng nhập được Cổng DVC",
        "☐ Đã nộp hoặc tra cứu hồ sơ trực tuyến",
    ):
        await volunteer.press(label)
        assert (await volunteer.reply()).kind == "edit"
    await volunteer.press("Tiếp ▶")
    await volunteer.reply()
    await volunteer.press("Bỏ qua ▶")
    await volunteer.reply()
    await volunteer.press("Bỏ qua ▶")
    summary = await volunteer.reply()
    assert "mức 2, đăng nhập DVC, nộp/tra cứu hồ sơ" in summary.text
    [confirm] = [
        d
        for m in volunteer.screen()
        if m.message_id == summary.message_id
        for row in m.buttons
        for label, d in row
        if label == "✅ Xác nhận"
    ]
    await volunteer.press_data(confirm, message_id=summary.message_id)
    await volunteer.press_data(confirm, message_id=summary.message_id)  # a double tap before the edit lands
    texts = [r.text for r in await volunteer.replies(count=2)]
    assert any("Thôn 1: 1/3 hộ đạt (33,3 %), tuần này +1" in t for t in texts)
    assert any("đã được lưu rồi" in t for t in texts)
    async with core.db.transaction() as conn:
        visits = await conn.execute_fetchall("SELECT count(*) FROM visits")
    assert next(iter(visits))[0] == 1
