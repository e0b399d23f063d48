"""Zalo: the real Zalo channel over HTTP against the local Zalo Bot API emulator — numbered menus,
polling and webhook, errors, files by signed link — and one person on both messengers."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import openpyxl
import pytest

from bot.app import Core, build_core
from bot.cli import settings_problem
from bot.config import REPO_CONTENT_DIR, Settings
from bot.messages import ZALO_BOT_CAPS, Outbound
from bot.render import fit, numbered_choice
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.pilot import User, ZaloUser
from bot.sandbox.zalo_emulator import ZaloEmulator
from bot.store import invites
from bot.web import WebServer
from scheduler import jobs
from tests.conftest import Clock, start_service, until_rows
from tests.people import Mail, Person, press_on
from tests.team_fixtures import ROSTER_CSV, Team, ask_for_help, build_team, invite_code

MENU = ["📘 Hướng dẫn theo chủ đề", "🔎 Hỏi bằng lời", "🙋 Nhờ hỗ trợ", "☎️ Liên hệ xã", "🔔 Thông báo của xã"]


@pytest.fixture
def person(zalo_emulator: ZaloEmulator, service: Service) -> ZaloUser:
    return ZaloUser(zalo_emulator, chat_id="zu1")


# ---- numbered menus ----------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["4", "4.", " 4 ", "số 4", "So 4"])
def test_a_reply_picks_the_line_of_the_last_menu(typed: str) -> None:
    assert numbered_choice(typed, ["a", "b", "c", "d"]) == "d"


@pytest.mark.parametrize("typed", ["5", "0", "4 hộ", "số", "", "14"])
def test_anything_else_is_no_choice(typed: str) -> None:
    assert numbered_choice(typed, ["a", "b", "c", "d"]) is None


async def test_numbered_menus_over_zalo(person: ZaloUser, zalo_emulator: ZaloEmulator, core: Core) -> None:
    await person.send("/start")
    welcome = await person.reply()
    assert welcome.labels[:5] == MENU and "Xã Nguyễn Lương Bằng" in welcome.text
    raw = zalo_emulator.messages("zu1")[-1].text
    assert "\n1. 📘 Hướng dẫn theo chủ đề\n" in raw and raw.endswith("Trả lời bằng số, ví dụ: 1")
    await person.send("số 4")
    correction_menu = await person.reply()
    assert "Giờ làm việc" in correction_menu.text
    await person.send("12")  # on no line of the menu: a short correction, the menu still answers
    correction = await person.reply()
    assert correction.text.startswith("Dạ, danh sách trên chỉ có số 1 đến") and len(correction.text) < 120
    await person.send(f" {correction_menu.numbers['🙋 Nhờ hỗ trợ']}. ")
    assert "bước 1/4" in (await person.reply()).text  # the contact screen's 🙋 Nhờ hỗ trợ
    await person.send("lam sao dk vneid")  # free text is still a question
    assert "Cài VNeID và đăng ký tài khoản" in (await person.reply()).text
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(
            "SELECT last_inbound_at FROM sessions WHERE channel = 'zalo' AND chat_id = 'zu1'"
        )
    assert rows and rows[0][0]  # kept per channel: a Zalo OA adapter will need it (48-hour window)


def test_long_texts_are_split_at_paragraph_line_or_sentence_ends() -> None:
    sentence = "Anh/chị mở ứng dụng VNeID, chọn Đăng nhập rồi làm theo hướng dẫn trên màn hình. "
    text = "\n\n".join(sentence * 6 for _ in range(10))  # ~4,900 characters
    parts, menu = fit([Outbound(text)], ZALO_BOT_CAPS, "Trả lời bằng số, ví dụ: 1")
    assert menu is None
    assert len(parts) >= 3 and all(len(p.text) <= 2000 for p in parts)
    assert all(p.text.endswith(".") for p in parts)  # never mid-sentence, never mid-word
    assert "".join(p.text.replace("\n", "").replace(" ", "") for p in parts) == text.replace("\n", "").replace(" ", "")


def test_a_long_text_keeps_its_menu_on_the_last_part() -> None:
    from bot.flows.base import button

    text = "Dòng thông tin dài.\n" * 150  # ~3,000 characters
    parts, menu = fit([Outbound(text, ((button("Tiếp ▶", "n"),),))], ZALO_BOT_CAPS, "Trả lời bằng số, ví dụ: 1")
    assert menu == ["n"] and len(parts) == 2
    assert "1. Tiếp ▶" not in parts[0].text and parts[1].text.endswith("1. Tiếp ▶\nTrả lời bằng số, ví dụ: 1")


# ---- receiving: polls, lists, webhook, errors -----------------------------------------------------------


async def test_empty_polls_end_in_408_and_polling_goes_on(person: ZaloUser, zalo_emulator: ZaloEmulator) -> None:
    await asyncio.sleep(2.5)  # poll_timeout=1: at least two polls come back empty with 408
    assert sum(1 for method, _ in zalo_emulator.calls if method == "getUpdates") >= 3
    await person.send("/menu")
    assert (await person.reply()).labels[:5] == MENU


async def test_a_poll_answering_with_a_list_of_updates_is_read_whole(core: Core) -> None:
    emu = ZaloEmulator(updates_as_list=True)
    await emu.start()
    service = await start_service(core, None, zalo=emu)
    try:
        for chat in ("l1", "l2", "l3"):
            emu.send_text(chat, "/menu")
        for chat in ("l1", "l2", "l3"):
            assert "Trả lời bằng số" in (await emu.wait_messages(chat, 1))[0].text
    finally:
        await service.stop()
        await emu.stop()


async def test_errors_on_polls_and_sends_are_retried_with_backoff(
    person: ZaloUser, zalo_emulator: ZaloEmulator
) -> None:
    def polls() -> int:
        return sum(1 for method, _ in zalo_emulator.calls if method == "getUpdates")

    before = polls()
    zalo_emulator.inject_error("getUpdates", 500, count=2)
    zalo_emulator.inject_error("getUpdates", 502, http_status=502)  # a proxy's HTML error page
    for _ in range(100):  # the poll in flight ends empty (1 s), then three fail, then polling goes on
        if polls() >= before + 5:
            break
        await asyncio.sleep(0.05)
    assert polls() >= before + 5
    zalo_emulator.inject_error("sendMessage", 503, count=1)
    await person.send("/menu")
    assert (await person.reply()).labels[:5] == MENU
    assert len(zalo_emulator.messages("zu1")) == 1
    sends = [method for method, chat in zalo_emulator.calls if method == "sendMessage"]
    assert len(sends) == 2  # the 503, then the one that went through


async def test_a_rejected_token_stops_the_service_with_a_clear_reason(core: Core) -> None:
    emu = ZaloEmulator()
    await emu.start()
    from bot.channels.zalo import ZaloChannel
    from tests.conftest import zalo_options

    channel = ZaloChannel(replace(zalo_options(emu), token="wrong-token"))
    service = Service(core, [channel], scheduler=False)
    try:
        await service.start()
        failure = await asyncio.wait_for(service.wait(), timeout=10)
        assert failure is not None and "ZALO_BOT_TOKEN" in failure
    finally:
        await service.stop()
        await emu.stop()


@pytest.fixture
async def webhook(core: Core, zalo_emulator: ZaloEmulator) -> AsyncIterator[str]:
    web = WebServer("127.0.0.1", 0)
    await web.start()  # to learn a free port, then give it to the channel's webhook URL
    port = web.port
    await web.stop()
    url = f"http://127.0.0.1:{port}/zalo"
    service = await start_service(
        core,
        None,
        zalo=zalo_emulator,
        web=WebServer("127.0.0.1", port),
        zalo_extra={"webhook_url": url, "webhook_secret": "zalo-s3cret"},
    )
    try:
        yield url
    finally:
        await service.stop()


async def test_the_webhook_checks_the_secret_and_accepts_wrapped_and_bare_updates(
    webhook: str, zalo_emulator: ZaloEmulator
) -> None:
    assert zalo_emulator.webhook_url == webhook and zalo_emulator.webhook_secret == "zalo-s3cret"
    person = ZaloUser(zalo_emulator, chat_id="wh1")
    await person.send("/menu")  # posted wrapped in {"ok": true, "result": ...}
    assert (await person.reply()).labels[:5] == MENU
    zalo_emulator.wrap_webhook = False
    await person.send("số 4")  # the bare update
    assert "Giờ làm việc" in (await person.reply()).text
    assert set(zalo_emulator.webhook_statuses) == {200}
    update = {
        "event_name": "message.text.received",
        "message": {"message_id": "f" * 32, "chat": {"id": "wh1", "chat_type": "PRIVATE"}, "text": "/menu"},
    }
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.post(webhook, json=update)).status_code == 403  # no secret
        wrong = {"X-Bot-Api-Secret-Token": "not-the-secret"}
        assert (await client.post(webhook, json=update, headers=wrong)).status_code == 403
        right = {"X-Bot-Api-Secret-Token": "zalo-s3cret"}
        assert (await client.post(webhook, json={"event_name": "x"}, headers=right)).status_code == 400
        assert (await client.post(webhook, json=update, headers=right)).status_code == 200
        assert (await client.post(webhook, json=update, headers=right)).status_code == 200  # Zalo retried
    await zalo_emulator.wait_messages("wh1", 3)
    await asyncio.sleep(0.5)
    assert len(zalo_emulator.messages("wh1")) == 3  # the retried update was answered once


def test_a_zalo_webhook_needs_a_secret_zalo_accepts(tmp_path: Path) -> None:
    base = {"_env_file": None, "zalo_bot_token": "z", "zalo_webhook_url": "https://bot.example.vn/zalo"}
    assert "ZALO_WEBHOOK_SECRET" in (settings_problem(Settings(**base)) or "")  # type: ignore[arg-type]
    short = Settings(**base, zalo_webhook_secret="short")  # type: ignore[arg-type]
    assert "8-256" in (settings_problem(short) or "")
    assert settings_problem(Settings(**base, zalo_webhook_secret="long-enough-secret")) is None  # type: ignore[arg-type]
    assert "ZALO_BOT_TOKEN" in (settings_problem(Settings(_env_file=None)) or "")  # type: ignore[call-arg]


# ---- files: signed, expiring links served by the bot's web server ---------------------------------------


@pytest.fixture
async def linked(
    tmp_path: Path, clock: Clock, emulator: BotApiEmulator, zalo_emulator: ZaloEmulator
) -> AsyncIterator[tuple[Core, str]]:
    """Both channels, and the bot's web server at PUBLIC_BASE_URL (where Zalo fetches photos from)."""
    web = WebServer("127.0.0.1", 0)
    await web.start()
    port = web.port
    await web.stop()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path}/links.db",
        content_dir=REPO_CONTENT_DIR,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    core = await build_core(settings, clock=clock)
    service = await start_service(core, emulator, zalo=zalo_emulator, web=WebServer("127.0.0.1", port))
    try:
        yield core, f"http://127.0.0.1:{port}"
    finally:
        await service.stop()


async def test_files_reach_zalo_as_signed_expiring_links(
    linked: tuple[Core, str], zalo_emulator: ZaloEmulator, emulator: BotApiEmulator, clock: Clock
) -> None:
    core, base = linked
    officer = ZaloUser(zalo_emulator, chat_id="zo1")
    await officer.send("/join " + await invite_code(core, role="officer", village_ids=[], label="Cán bộ Hoa"))
    assert "Chào mừng Cán bộ Hoa" in (await officer.reply()).text
    telegram_officer = User(emulator, chat_id=7001)  # rosters come in on Telegram (or the CLI)
    await telegram_officer.send("/join " + await invite_code(core, role="officer", village_ids=[], label="Cán bộ An"))
    await telegram_officer.reply()
    await telegram_officer.send_document("ds.csv", ROSTER_CSV.encode())
    assert "5 hộ mới" in (await telegram_officer.reply()).text

    await officer.send("/menu")
    await officer.reply()
    await officer.press("🛠 Quản lý (cán bộ xã)")
    await officer.reply()
    await officer.press("📥 Nhập danh sách hộ")
    assert "Telegram" in (await officer.reply()).text  # where a roster can be sent from Zalo's side

    await officer.send("/menu")
    await officer.reply()
    await officer.press("🛠 Quản lý (cán bộ xã)")
    await officer.reply()
    await officer.press("🔳 Mã QR hướng dẫn (in dán)")
    await officer.reply()
    await officer.press(core.services.content.guides["pay-online"].title)
    [poster] = [m for m in await officer.replies() if m.photo_url]
    assert poster.photo_url.startswith(f"{base}/files/")
    [photo] = [m for m in zalo_emulator.messages("zo1") if m.kind == "photo"]
    assert photo.photo_bytes is not None and photo.photo_bytes.startswith(b"\x89PNG")  # Zalo fetched the link
    assert "t.me/" in photo.text  # the poster opens the Telegram bot: Zalo bots have no start links

    await officer.send("/menu")
    await officer.reply()
    await officer.press("🛠 Quản lý (cán bộ xã)")
    await officer.reply()
    await officer.press("📤 Xuất số liệu theo thôn (Excel)")
    done = await officer.replies(count=2, timeout=15)
    link = re.search(r"(http://127\.0\.0\.1:\d+/files/\S+)", "\n".join(r.text for r in done))
    assert link is not None and "dùng được đến" in "\n".join(r.text for r in done)
    async with httpx.AsyncClient(timeout=5) as client:
        got = await client.get(link.group(1))
        assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
        sheet = openpyxl.load_workbook(io.BytesIO(got.content), read_only=True).active
        assert sheet is not None and any("Thôn 1" in str(row) for row in sheet.iter_rows(values_only=True))
        forged = re.sub(r"/([0-9a-f]{32})/", "/" + "0" * 32 + "/", link.group(1))
        assert (await client.get(forged)).status_code == 410
        stretched = re.sub(r"/(\d{9,12})/", lambda m: f"/{int(m.group(1)) + 86400}/", link.group(1))
        assert (await client.get(stretched)).status_code == 410
        clock.advance(hours=25)  # FILE_LINK_HOURS=24
        gone = await client.get(link.group(1))
        assert gone.status_code == 410 and "hết hạn" in gone.text
    await jobs.prune_message_log(core.db, clock.now)  # the nightly clean-up drops expired files
    async with core.db.transaction() as conn:
        assert (await conn.execute_fetchall("SELECT count(*) FROM shared_files"))[0][0] == 0


async def test_without_a_public_url_zalo_is_told_where_to_get_the_file(core: Core, tmp_path: Path) -> None:
    settings = core.services.settings.model_copy(update={"public_base_url": None})
    plain = await build_core(settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/p.db"}))
    try:
        officer = Person(plain, "zo2", channel="zalo")
        await officer.command("join", await invite_code(plain, role="officer", village_ids=[], label="Cán bộ Hoa"))
        await officer.press_data("qrg:pay-online")  # no deep link either: the officer is told so
        assert "chưa tạo được đường dẫn" in officer.text
        plain.services.deep_links["telegram"] = lambda payload: f"https://t.me/dvc_bot?start={payload}"
        await officer.press_data("qrg:pay-online")
        assert "chưa gửi được qua Zalo" in officer.text and "Telegram" in officer.text
    finally:
        await plain.close()


# ---- one person, two messengers --------------------------------------------------------------------------


async def link_chats(member: Person, other: Person) -> None:
    """`/lienket` on the member's chat, the code typed after `/lienket` on the other."""
    await member.command("lienket")
    code = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", member.text)
    assert code is not None
    await other.command("lienket", code.group(1))
    assert "Đã liên kết" in other.text


@pytest.fixture
async def team(core: Core) -> Team:
    return await build_team(core)  # everyone on Telegram


async def test_a_volunteer_links_zalo_and_keeps_role_history_and_notifications(team: Team, core: Core) -> None:
    mail = Mail(core)
    v = team.volunteer
    await v.command("mydata")
    await v.press("🔗 Dùng cả Telegram và Zalo")
    code = re.search(r"/lienket ([A-Z0-9]{4}-[A-Z0-9]{4})", v.text)
    assert code is not None and "15 phút" in v.text and "Không đưa mã này cho ai" in v.text
    on_zalo = Person(core, "zv1", channel="zalo")
    await on_zalo.command("lienket", code.group(1).lower().replace("-", " "))  # typed loosely
    assert "Đã liên kết" in on_zalo.text and "Tình nguyện viên Nam" in on_zalo.text
    assert "📝 Ghi nhận hỗ trợ hộ" in on_zalo.labels  # the volunteer's menu, on Zalo
    notice = mail.last(v)
    assert "vừa được liên kết với Zalo" in notice.text and "báo ngay cán bộ xã" in notice.text

    # the same member: a visit logged on Zalo is the volunteer's, and Telegram still works
    await on_zalo.press("📝 Ghi nhận hỗ trợ hộ")
    await on_zalo.send("H001")
    await on_zalo.press("H001")
    assert "Người được hướng dẫn nay làm được gì" in on_zalo.text
    await v.command("menu")
    assert "📝 Ghi nhận hỗ trợ hộ" in v.labels

    # notifications now go to Zalo: a citizen's help request in Thôn 1 is offered there
    citizen = team.citizen
    await ask_for_help(citizen)
    offer = mail.last(on_zalo)
    assert "Thôn 1" in offer.text and ". ✋ Nhận giúp" in offer.text
    await on_zalo.press_data(press_on(offer, "✋ Nhận giúp"))  # types the offer's number
    assert "Anh/chị đã nhận" in on_zalo.text
    await on_zalo.command("mydata")
    assert "Cũng dùng bot trên: Telegram" in on_zalo.text

    # the code was for one use
    again = Person(core, "zv2", channel="zalo")
    await again.command("lienket", code.group(1))
    assert "đã dùng hoặc đã hết hạn" in again.text and "📝 Ghi nhận hỗ trợ hộ" not in again.labels


async def test_link_codes_expire_cannot_join_two_members_and_wrong_guesses_lock_out(
    team: Team, core: Core, clock: Clock
) -> None:
    v = team.volunteer
    await v.command("lienket")
    code = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", v.text)
    assert code is not None
    other_member = team.other_volunteer  # already a member: cannot become Nam too
    await other_member.command("lienket", code.group(1))
    assert "đã là một thành viên khác" in other_member.text
    clock.advance(minutes=16)
    late = Person(core, "zl1", channel="zalo")
    await late.command("join", code.group(1))  # a link code typed where invites go works the same
    assert "đã dùng hoặc đã hết hạn" in late.text
    citizen = Person(core, "zl2", channel="zalo")
    await citizen.command("lienket")
    assert "dành cho thành viên" in citizen.text and "/join" in citizen.text
    for _ in range(invites.MAX_FAILURES):
        await citizen.command("lienket", "ABCD-EFGH")
    assert "Mã liên kết không đúng" in citizen.text
    await v.command("lienket")
    fresh = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", v.text)
    assert fresh is not None
    await citizen.command("lienket", fresh.group(1))
    assert "sai mã quá 5 lần" in citizen.text  # locked out even with a right code


async def test_an_invite_made_on_telegram_is_used_on_zalo(team: Team, core: Core) -> None:
    await team.officer.press_data("iro")
    await team.officer.send("Cán bộ Minh")
    code = re.search(r"/join ([A-Z0-9]{4}-[A-Z0-9]{4})", team.officer.text)
    assert code is not None and "Telegram hoặc Zalo" in team.officer.text
    minh = Person(core, "zm1", channel="zalo")
    await minh.command("join", code.group(1))
    assert "Chào mừng Cán bộ Minh" in minh.text and "🛠 Quản lý (cán bộ xã)" in minh.labels


async def test_an_officer_sending_a_file_on_zalo_is_told_where_rosters_go(team: Team, core: Core) -> None:
    on_zalo = Person(core, "zo9", channel="zalo")
    await on_zalo.command("join", await invite_code(core, role="officer", village_ids=[], label="Cán bộ Lan"))
    await on_zalo.send_other()  # what Zalo delivers for a file
    assert "chưa xem được ảnh hay tệp" in on_zalo.text and "qua bot trên Telegram" in on_zalo.text
    await team.citizen.send_other()
    assert "Telegram" not in team.citizen.text  # a citizen is not told about rosters


async def test_a_notification_mid_step_numbers_its_lines_after_the_menu_on_screen(team: Team, core: Core) -> None:
    mail = Mail(core)
    on_zalo = Person(core, "zn1", channel="zalo")
    await link_chats(team.volunteer, on_zalo)
    await on_zalo.press("📝 Ghi nhận hỗ trợ hộ")
    await on_zalo.send("H001")
    await on_zalo.press("H001")
    checklist = on_zalo.labels
    assert checklist[0] == "☐ Đã cài VNeID"
    citizen = team.citizen  # meanwhile a citizen of Thôn 1 asks for help: the offer reaches Zalo
    await ask_for_help(citizen)
    offer = mail.last(on_zalo)
    assert f"{len(checklist) + 1}. ✋ Nhận giúp" in offer.text  # numbered after the checklist
    await on_zalo.send("1")  # still the checklist's first line
    assert "☑ Đã cài VNeID" in on_zalo.labels and "Anh/chị đã nhận" not in on_zalo.text


async def test_a_short_numeric_household_code_is_searched_not_corrected(team: Team, core: Core) -> None:
    from bot.roster import parse_roster
    from bot.services.households import import_roster

    csv = "Mã hộ,Họ tên chủ hộ,Thôn\n15,Ngô Văn Số,Thôn 1\n"
    async with core.db.transaction() as conn:
        result = await import_roster(
            conn, parsed=parse_roster(csv.encode(), "ds.csv"), commune="11242", data=csv.encode(),
            filename="ds.csv", actor="cli", now=core.services.clock(), create_villages=False,
        )  # fmt: skip
    assert result.added == 1
    v = Person(core, team.volunteer.chat, channel="telegram")
    on_zalo = Person(core, "zn2", channel="zalo")
    await link_chats(v, on_zalo)
    await on_zalo.press("📝 Ghi nhận hỗ trợ hộ")
    assert len(on_zalo.labels) < 15
    await on_zalo.send("15")  # on no line of the menu, and the step waits for a code: a search
    assert "Ngô Văn Số" in on_zalo.text


def test_file_links_need_https_except_on_this_machine() -> None:
    with pytest.raises(ValueError, match="https"):
        Settings(_env_file=None, public_base_url="http://bot.example.vn")  # type: ignore[call-arg]
    assert Settings(_env_file=None, public_base_url="https://bot.example.vn/").public_base_url == (  # type: ignore[call-arg]
        "https://bot.example.vn"
    )
    assert Settings(_env_file=None, public_base_url="http://127.0.0.1:8443").public_base_url  # type: ignore[call-arg]


async def test_a_former_member_deleting_their_data_on_a_linked_chat_unlinks_it(team: Team, core: Core) -> None:
    on_zalo = Person(core, "zd1", channel="zalo")
    await link_chats(team.other_volunteer, on_zalo)
    await team.officer.press_data("tl")
    await team.officer.press("✅ Tình nguyện viên Lan")
    await team.officer.press("⛔ Ngừng hoạt động")  # a citizen again, on both chats
    telegram = team.other_volunteer  # since the link, the Telegram chat is the linked one
    await telegram.command("deleteme")
    await telegram.press("🗑 Có, xóa hết")
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT chat_id FROM member_identities")
    assert [r[0] for r in rows] == []


async def test_a_lost_answer_is_not_resent_and_a_blocked_person_is_marked_unreachable(
    person: ZaloUser, zalo_emulator: ZaloEmulator, core: Core
) -> None:
    from bot.messages import Recipient
    from bot.store import sessions

    zalo_emulator.lose_answer("sendMessage")  # Zalo got it, the answer never came back
    await person.send("/menu")
    await person.reply()
    await until_rows(core, "SELECT count(*) FROM outbox WHERE status = 'unknown'", [(1,)])
    await asyncio.sleep(0.3)
    assert len(zalo_emulator.messages("zu1")) == 1  # one copy: not sent again
    zalo_emulator.block("zu1")
    zalo_emulator.send_text("zu1", "/help")
    await until_rows(core, "SELECT count(*) FROM outbox WHERE error = 'unreachable'", [(1,)])
    async with core.db.transaction() as conn:
        assert await sessions.unreachable(conn, Recipient("zalo", "zu1"))
