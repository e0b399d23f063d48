"""Regression tests for defects found in review: each names what a person would have hit."""

from __future__ import annotations

import pytest

from bot.app import Core
from bot.runtime import Service
from bot.sandbox.emulator import BotApiEmulator
from tests.people import Person
from tests.team_fixtures import ROSTER_CSV, Team, build_team, invite_code
from tests.test_team import count, log_visit, skip_to_summary

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo


@pytest.fixture
async def team(core: Core) -> Team:
    return await build_team(core)


@pytest.mark.parametrize(
    "data",
    [
        "g:vneid-register:²",
        "td:²",
        "vh:²",
        "vt:²",
        "ve:²",
        "vw:²",
        "vnv:²",
        "tm:99999999999999999999999",
        "tx:99999999999999999999999",
        "ix:-1",
    ],
)
async def test_forged_unicode_digits_and_huge_ids_get_an_answer_not_an_error(team: Team, data: str) -> None:
    for person in (team.citizen, team.volunteer, team.officer):
        await person.press_data(data)
        assert person.text and "trục trặc" not in person.text, (data, person.text)


async def test_an_open_draft_survives_a_forged_button(team: Team) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.send("H001")
    await v.press("H001")
    await v.press_data("vt:²")
    await v.press("☐ Đã cài VNeID")
    assert "☑ Đã cài VNeID" in v.labels


async def test_officers_cannot_deactivate_other_officers(team: Team, core: Core) -> None:
    second = Person(core, "990")
    await second.command("join", await invite_code(core, role="officer", village_ids=[], label="Cán bộ Hai"))
    first_id = await count(core, "SELECT id FROM members WHERE chat_id = '900'")
    await second.press_data(f"tm:{first_id}")
    assert "⛔ Ngừng hoạt động" not in second.labels
    await second.press_data(f"tx:{first_id}")
    assert "chỉ quản lý được thành viên" in second.text
    assert await count(core, "SELECT active FROM members WHERE id = ?", first_id) == 1


async def test_a_question_after_a_rating_is_answered_not_stored(core: Core) -> None:
    person = Person(core, "42")
    await person.press_data("r:vneid-register:5")
    await person.send("lam sao dang ky vneid")
    assert person.text.startswith("📘 Cài VNeID và đăng ký tài khoản")
    await person.press_data("r:vneid-register:4")
    await person.send("so CCCD cua toi 001 089 012 345")
    assert "đừng gửi" in person.text
    assert await count(core, "SELECT count(*) FROM ratings WHERE comment IS NOT NULL") == 0


async def test_pressing_another_button_ends_a_wait_for_typed_input(team: Team) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.press_data("tp")  # off to the guides instead
    await v.send("khai sinh cho con")
    assert "Không tìm thấy hộ" not in v.text and v.text.startswith("📘 Khai sinh cho con")


async def test_questions_typed_after_a_bare_join_do_not_count_as_wrong_codes(core: Core) -> None:
    person = Person(core, "991")
    code = await invite_code(core, role="volunteer", village_ids=[], label="E")
    for _ in range(6):
        await person.command("join")
        await person.send("lam sao dang ky vneid")
        assert person.text.startswith("📘 Cài VNeID và đăng ký tài khoản")
    await person.command("join", code)
    assert "Chào mừng" in person.text


async def test_an_invite_name_that_is_a_question_is_asked_again(team: Team, core: Core) -> None:
    await team.officer.press_data("ir")
    await team.officer.press("🏛 Cán bộ xã")
    await team.officer.send("làm sao đăng ký vneid?")
    assert "câu hỏi, chưa phải tên" in team.officer.text
    assert await count(core, "SELECT count(*) FROM invites WHERE label LIKE '%vneid%'") == 0


async def test_id_numbers_are_refused_in_visit_names_notes_and_the_roster(team: Team, core: Core) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.send("H001")
    await v.press("H001")
    await v.press("☐ Đã cài VNeID")
    await v.press("Tiếp ▶")
    await v.send("Lan 001 089 012 345")
    assert "Không ghi số căn cước" in v.text
    await v.press("Bỏ qua ▶")
    await v.send("CCCD 001.089.012.345")
    assert "Không ghi số căn cước" in v.text
    if not team.officer.numbered:  # rosters are sent to the bot on Telegram only
        roster = ROSTER_CSV.replace("Xóm Đông", "Xóm Đông CMND 012345678")
        await team.officer.upload("ds.csv", roster.encode())
        assert "Dòng 2, cột «Địa chỉ»" in team.officer.text and "chưa nhập gì" in team.officer.text
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT state FROM sessions")
    assert all("012345" not in str(r[0]) for r in rows)


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_a_roster_row_cannot_take_over_a_household_added_in_the_field(team: Team, core: Core) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.press("➕ Hộ mới")
    await v.send("Đỗ Văn Mới")
    await v.press("☐ Đã cài VNeID")
    await skip_to_summary(v)
    await v.press("✅ Xác nhận")
    await team.officer.upload("ds.csv", (ROSTER_CSV + "TD-0001,Vũ Thị Khác,Thôn 2,,1,\n").encode())
    assert "do Tổ công nghệ số thêm tại thực địa" in team.officer.text
    await team.officer.upload("ds.csv", (ROSTER_CSV + "TD-0001,Đỗ Văn Mới,Thôn 1,Xóm Bắc,3,\n").encode())
    assert "cập nhật" in team.officer.text  # the same household, adopted into the roster
    assert await count(core, "SELECT count(*) FROM households WHERE code = 'TD-0001' AND address = 'Xóm Bắc'") == 1


async def test_an_old_confirm_button_keeps_the_visit_being_filled_in(team: Team, core: Core) -> None:
    await log_visit(team.volunteer, "H001", ["Đã cài VNeID"])
    v = team.volunteer
    old_confirm = next(data for data in v.button_data if data.startswith("ve:"))
    await log_visit_until_summary(v, "H002")
    current = v.data_for("✅ Xác nhận")
    await v.press_data("vc:" + "0" * 12)  # an old or forged confirm
    await v.press_data(current)
    assert "Đã lưu" in v.text
    assert await count(core, "SELECT count(*) FROM visits") == 2
    assert old_confirm


async def log_visit_until_summary(v: Person, code: str) -> None:
    await v.command("visit")
    await v.send(code)
    await v.press(code)
    await v.press("☐ Đã cài VNeID")
    await skip_to_summary(v)


async def test_earlier_trained_person_is_offered_so_two_visits_add_up(team: Team) -> None:
    await log_visit(team.volunteer, "H003", ["Tài khoản mức 2", "Đăng nhập được"], name="chị Lan — con dâu")
    v = team.volunteer
    await v.command("visit")
    await v.send("H003")
    await v.press("H003")
    await v.press("☐ Đã nộp hoặc tra cứu")
    await v.press("Tiếp ▶")
    await v.press("👤 chị Lan — con dâu")
    await v.press("Bỏ qua ▶")
    await v.press("✅ Xác nhận")
    assert "Thôn 1: 1/3 hộ đạt" in v.text


async def test_team_list_pages_past_twenty(team: Team, core: Core) -> None:
    for i in range(25):
        await Person(core, f"8{i:02d}").command(
            "join", await invite_code(core, role="volunteer", village_ids=[], label=f"TNV {i:02d}")
        )
    await team.officer.press_data("tl")
    assert "trang 1/2" in team.officer.text and "Trang sau ▶" in team.officer.labels
    await team.officer.press("Trang sau ▶")
    assert "trang 2/2" in team.officer.text


async def test_citizens_files_are_not_downloaded(emulator: BotApiEmulator, service: Service) -> None:
    from bot.sandbox.pilot import User

    citizen = User(emulator, chat_id=5005)
    await citizen.send_document("big.csv", b"a,b\n" * 1000)
    assert "chỉ đọc được chữ, chưa nghe" in (await citizen.reply()).text
    assert emulator.stats.get("getFile", 0) == 0
