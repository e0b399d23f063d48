"""The volunteers' side, as a volunteer in the field tries it: visits where nothing could be done, same
names told apart, typos found, households of other villages never copied, moves approved by an officer,
a confirm screen that says what will count, no destructive button under a second tap, the draft kept
through typed text, "my week", and exports that default to figures without names."""

from __future__ import annotations

import io

import openpyxl
import pytest

from bot.app import Core
from bot.coverage import REACHED, RULE, describe
from bot.store import audit
from tests.conftest import Clock
from tests.people import Mail, Person, file_in, press_on
from tests.team_fixtures import Team, build_team, import_csv

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo

MORE_HOUSEHOLDS = (
    "Mã hộ,Họ tên chủ hộ,Thôn,Địa chỉ,Số nhân khẩu,Ưu tiên\n"
    "H004,Nguyễn Văn Hùng,Thôn 1,Xóm Trại,3,\n"
    "H005,Nguyễn Văn An,Thôn 1,Xóm Bến,2,Người cao tuổi\n"
)


@pytest.fixture
async def team(core: Core) -> Team:
    team = await build_team(core)
    await import_csv(core, team.officer, MORE_HOUSEHOLDS, added=2)
    return team


async def value(core: Core, sql: str, *args: object) -> object:
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(sql, args)
    return next(iter(rows))[0]


async def open_household(person: Person, query: str, code: str) -> None:
    await person.press_data("vs")
    await person.send(query)
    await person.press(code)


# ---- a visit where nothing could be done ---------------------------------------------------------


async def test_a_visit_with_nothing_achieved_counts_as_a_visit_never_as_reached(team: Team, core: Core) -> None:
    v, mail = team.volunteer, Mail(core)
    await open_household(v, "H003", "H003")
    await v.press("🚫 Không làm được")
    assert "vẫn được ghi là đã thăm" in v.text
    await v.press("Không có điện thoại thông minh")
    assert "không tính là đạt" in v.text and "Không có điện thoại thông minh" in v.text
    await v.press("✅ Xác nhận")
    assert "chưa làm được" in v.text and "Thôn 1: 0/5 hộ đạt" in v.text
    assert await value(core, "SELECT outcome || '/' || skills FROM visits") == "no_phone/0"
    assert (
        await value(core, "SELECT last_visit_at IS NOT NULL AND reached_at IS NULL FROM households WHERE code = 'H003'")
        == 1
    )

    # …and the household can go to the officers as a help request, once.
    await v.press("🙋 Nhờ cán bộ xã")
    assert "Đã chuyển hộ này cho cán bộ xã" in v.text
    offer = mail.last(team.officer)
    assert "H003 · Lê Văn Cường" in offer.text and "Không có điện thoại thông minh" in offer.text
    await v.press_data("vs")  # on to other things
    request = await value(core, "SELECT id FROM help_requests WHERE household_id IS NOT NULL")
    visit = await value(core, "SELECT id FROM visits")
    await v.press_data(f"vhe:{visit}")  # the button again, from the old screen
    assert f"đã có yêu cầu hỗ trợ #{request}" in v.text
    assert await value(core, "SELECT count(*) FROM help_requests") == 1

    # The officer takes it like any request; there is no citizen to message.
    await team.officer.press_data(press_on(offer, "✋ Nhận giúp"))
    assert "💬 Nhắn người dân" not in team.officer.labels and "✅ Đã giúp xong" in team.officer.labels


async def test_another_reason_is_typed_and_kept(team: Team, core: Core) -> None:
    v = team.volunteer
    await open_household(v, "H001", "H001")
    await v.press("🚫 Không làm được")
    await v.press("Lý do khác")
    await v.send("x" * 201)
    assert "tối đa 200" in v.text  # too long: asked again, nothing lost
    await v.send("Điện thoại hết pin, hẹn tuần sau")
    assert "Điện thoại hết pin" in v.text
    await v.press("✅ Xác nhận")
    assert await value(core, "SELECT outcome || ': ' || note FROM visits") == "other: Điện thoại hết pin, hẹn tuần sau"


# ---- finding the right household -----------------------------------------------------------------


async def test_same_names_are_told_apart_and_light_typos_are_found(team: Team) -> None:
    v = team.volunteer
    await v.press_data("vs")
    await v.send("nguyen van an")
    assert "Xóm Đông" in v.text and "Xóm Bến" in v.text  # two An of Thôn 1, each with their hamlet
    assert any("Xóm Bến" in label for label in v.labels)
    await v.send("nguyen van hunh")  # one letter off
    assert "H004 · Nguyễn Văn Hùng" in v.text and "Xóm Trại" in v.text
    await v.send("ngyen van an")
    assert "Nguyễn Văn An" in v.text and "Hùng" not in v.text
    await v.send("zzzz qqqq")
    assert "Không tìm thấy" in v.text


# ---- ➕ Hộ mới looks through the whole commune first -----------------------------------------------


async def test_a_new_household_found_in_another_village_is_logged_there_as_outside_help(team: Team, core: Core) -> None:
    v, mail = team.volunteer, Mail(core)
    before = await value(core, "SELECT count(*) FROM households")
    await v.press_data("vs")
    await v.press("➕ Hộ mới")
    await v.send("Pham Thi Dung")  # H101 is in Thôn 2, not the volunteer's village
    assert "trùng hoặc gần trùng" in v.text and "H101 · Phạm Thị Dung — Thôn 2" in v.text
    assert not any(label.startswith("H101") for label in v.labels)  # not offered as one of theirs
    await v.press("🤝 Ghi hỗ trợ ngoài địa bàn: Phạm Thị Dung (Thôn 2)")
    assert "H101 · Phạm Thị Dung — Thôn 2" in v.text
    for skill in ("Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"):
        await v.press(f"☐ {skill}")
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    assert "ngoài địa bàn" in v.text and "ĐÃ ĐẠT" in v.text
    await v.press("✅ Xác nhận")
    assert "Thôn 2: 1/2 hộ đạt" in v.text  # counted for the household's own village
    assert await value(core, "SELECT count(*) FROM households") == before  # nothing duplicated
    assert await value(core, "SELECT outside FROM visits") == 1
    told = mail.last(team.other_volunteer)
    assert "Tình nguyện viên Nam" in told.text and "H101 · Phạm Thị Dung" in told.text


async def test_a_new_household_with_no_match_is_added_and_cancel_adds_nothing(team: Team, core: Core) -> None:
    v = team.volunteer
    before = await value(core, "SELECT count(*) FROM households")
    await v.press_data("vs")
    await v.press("➕ Hộ mới")
    await v.send("Phạm Thị Dung")
    await v.press("✖ Huỷ")
    assert "không có gì được lưu" in v.text
    await v.press_data("vs")
    await v.press("➕ Hộ mới")
    await v.send("Phạm Thị Dung")
    await v.press("➕ Không phải, đây là hộ mới")  # a different Dung who lives in Thôn 1
    await v.press("☐ Đã cài VNeID")
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    await v.press("✅ Xác nhận")
    assert "TD-0001 · Phạm Thị Dung — Thôn 1" in v.text
    assert await value(core, "SELECT count(*) FROM households") == before + 1


async def test_moving_a_household_is_a_request_an_officer_approves(team: Team, core: Core) -> None:
    v, officer, mail = team.volunteer, team.officer, Mail(core)
    await v.press_data("vs")
    await v.press("➕ Hộ mới")
    await v.send("Hoàng Văn Em")
    await v.press("🏘 Hoàng Văn Em đã chuyển về Thôn 1")
    assert "Đã gửi cán bộ xã đề nghị chuyển hộ H102" in v.text
    assert "🤝 Ghi hỗ trợ ngoài địa bàn" in v.labels[0]  # the visit can still be logged now
    assert (
        await value(
            core, "SELECT v.name FROM households h JOIN villages v ON v.id = h.village_id WHERE h.code = 'H102'"
        )
        == "Thôn 2"
    )
    ask = mail.last(officer)
    assert "từ Thôn 2 sang Thôn 1" in ask.text
    approve = press_on(ask, "✅ Đồng ý")
    await v.press_data(approve)  # a volunteer cannot approve (forged button)
    assert "dành cho" in v.text
    await officer.press_data(approve)
    assert "Đã chuyển hộ H102" in officer.text
    assert "nay thuộc Thôn 1" in mail.last(v).text
    assert (
        await value(
            core, "SELECT v.name FROM households h JOIN villages v ON v.id = h.village_id WHERE h.code = 'H102'"
        )
        == "Thôn 1"
    )
    if not officer.numbered:  # a second tap on the old message (Zalo answers only its newest menu)
        await officer.press_data(press_on(ask, "✖ Không đồng ý"))
        assert "đã được xử lý" in officer.text
    entries = [(e[2], e[3]) for e in await _audit(core)]
    assert (
        "move.request",
        f"household:{await value(core, 'SELECT id FROM households WHERE code = ?', 'H102')}",
    ) in entries


async def _audit(core: Core) -> list[tuple[str, str, str, str, dict[str, object]]]:
    async with core.db.transaction() as conn:
        return await audit.entries(conn, "11242")


# ---- the confirm screen says what will count ------------------------------------------------------


async def test_confirm_screen_names_the_village_and_what_is_still_missing(team: Team) -> None:
    v = team.volunteer
    await open_household(v, "H002", "H002")
    assert RULE in v.text and describe(REACHED) in RULE  # the header is the rule in bot/coverage.py
    await v.press("☐ Tài khoản mức 2")
    await v.press("☐ Đăng nhập được")
    await v.press("Tiếp ▶")
    await v.send("Chị Hạnh")
    await v.press("Bỏ qua ▶")
    assert "H002 · Trần Thị Bình — Thôn 1" in v.text
    assert "CHƯA đạt: Chị Hạnh còn thiếu nộp/tra cứu hồ sơ" in v.text
    await v.press("✅ Xác nhận")
    # The same person learns the last skill on a second visit: now it will count.
    await open_household(v, "H002", "H002")
    await v.press("☐ Đã nộp hoặc tra cứu")
    await v.press("Tiếp ▶")
    await v.press("👤 Chị Hạnh")
    await v.press("Bỏ qua ▶")
    assert "hộ sẽ được tính là ĐÃ ĐẠT" in v.text
    await v.press("✅ Xác nhận")
    await open_household(v, "H002", "H002")
    await v.press("☐ Đã thanh toán")
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    assert "Hộ đã đạt từ trước" in v.text


# ---- no destructive button under a second tap; the draft survives typing ---------------------------


async def test_after_saving_the_first_button_is_harmless_and_the_draft_survives_typing(team: Team, core: Core) -> None:
    v = team.volunteer
    await open_household(v, "H001", "H001")
    await v.press("☐ Đã cài VNeID")
    await v.send("chị ấy chưa có mật khẩu")  # typed where a button was expected
    assert "vẫn giữ lần ghi hộ H001" in v.text and "☑ Đã cài VNeID" in v.labels
    await v.press_data("m")  # a detour to the menu…
    await v.press_data("vs")
    assert v.labels[0].startswith("▶ Tiếp tục ghi: H001")  # …and back
    await v.press(v.labels[0])
    assert "☑ Đã cài VNeID" in v.labels
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    assert v.labels[:2] == ["✅ Xác nhận", "✖ Huỷ"]
    await v.press("✅ Xác nhận")
    # Where ✅ and ✖ were, a hurried second tap now finds "another visit" and "correct": nothing lost.
    assert [data.partition(":")[0] for data in v.button_data[:2]] == ["vs", "ve"]
    assert await value(core, "SELECT count(*) FROM visits WHERE withdrawn_at IS NULL") == 1


# ---- my week -----------------------------------------------------------------------------------------


async def test_my_week_lists_reached_not_reached_nothing_done_withdrawn_and_outside(
    team: Team, core: Core, clock: Clock
) -> None:
    v = team.volunteer
    for code, skills in (
        ("H002", ["Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"]),
        ("H003", ["Đã cài VNeID"]),
    ):
        await open_household(v, code, code)
        for skill in skills:
            await v.press(f"☐ {skill}")
        await v.press("Tiếp ▶")
        await v.press("Bỏ qua ▶")
        await v.press("Bỏ qua ▶")
        await v.press("✅ Xác nhận")
    await v.press("↩️ Rút lại")
    await v.press("↩️ Có, rút lại")
    clock.advance(days=1)
    await open_household(v, "H001", "H001")
    await v.press("🚫 Không làm được")
    await v.press("Không có ai ở nhà")
    await v.press("✅ Xác nhận")
    await v.press_data("vm")
    text = v.text
    assert "Hôm nay: 1 lượt thăm, 0 hộ đạt" in text
    assert "Tuần này: 2 lượt thăm, 1 hộ đạt" in text  # the withdrawn one is listed, not counted
    assert "✅ hộ đã đạt H002" in text and "↩️ đã rút lại H003" in text and "🚫 Không có ai ở nhà H001" in text


# ---- help done → the visit log starts from the request ----------------------------------------------


async def test_done_help_request_leads_to_a_prefilled_visit(team: Team, core: Core) -> None:
    citizen, v, mail = team.citizen, team.volunteer, Mail(core)
    await citizen.press_data("help")
    await citizen.press("Thôn 1")
    await citizen.press("🪪")
    await citizen.press("🌅 Buổi sáng")
    await citizen.press("💬 Chỉ nhắn qua đây")
    await citizen.press("✅ Gửi yêu cầu")
    await v.press_data(press_on(mail.last(v), "✋ Nhận giúp"))
    await v.press("✅ Đã giúp xong")
    await v.press("📝 Ghi nhận hộ vừa hướng dẫn")
    assert "yêu cầu #1" in v.text and "Thôn 1" in v.text
    await v.send("binh")
    await v.press("H002")
    assert "Theo yêu cầu hỗ trợ #1" in v.text
    await v.press("☐ Tài khoản mức 2")
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    await v.press("✅ Xác nhận")
    assert await value(core, "SELECT help_id FROM visits") == 1
    await team.other_volunteer.press_data("vhr:1")  # not theirs: an ordinary start
    assert "Gõ mã hộ hoặc tên chủ hộ" in team.other_volunteer.text


async def test_officers_see_every_waiting_request_of_the_commune(team: Team, core: Core, clock: Clock) -> None:
    citizen = team.citizen
    await citizen.press_data("help")
    await citizen.press("Thôn 2")
    await citizen.press("🪪")
    await citizen.press("🌅 Buổi sáng")
    await citizen.press("💬 Chỉ nhắn qua đây")
    await citizen.press("✅ Gửi yêu cầu")
    clock.advance(hours=30)
    await team.officer.command("requests")
    assert "Yêu cầu đang chờ của cả xã" in team.officer.text
    assert "#1 · Thôn 2" in team.officer.text and "đang chờ người nhận (đã 30 giờ)" in team.officer.text
    assert "✋ Nhận giúp #1" in team.officer.labels
    await team.volunteer.command("requests")
    assert "cả xã" not in team.volunteer.text


# ---- exports: figures by default, the named list on purpose -----------------------------------------


async def test_exports_default_to_figures_per_village_and_the_named_list_is_explicit_and_audited(
    team: Team, core: Core
) -> None:
    officer = team.officer
    await officer.press_data("mg")
    assert "📤 Xuất số liệu theo thôn (Excel)" in officer.labels
    await officer.press("📤 Xuất số liệu theo thôn")
    [figures] = await core.run_tasks()
    sheet = openpyxl.load_workbook(io.BytesIO((await file_in(core, figures.message)).content), read_only=True).active
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    flat = [str(c) for row in cells for c in row]
    assert not any("Nguyễn Văn An" in c or "Xóm" in c for c in flat)  # no names, no addresses
    assert any(c.startswith("Số liệu tính đến") for c in flat)
    thon1 = next(row for row in cells if row and row[0] == "Thôn 1")
    assert thon1[1:3] == [5, 0]
    total = next(row for row in cells if row and row[0] == "Cả xã")
    assert total[1] == 7

    await officer.press_data("mg")
    await officer.press("📋 Xuất danh sách từng hộ")
    assert "họ tên chủ hộ, địa chỉ và diện ưu tiên" in officer.text  # asked first
    assert await core.run_tasks() == []
    await officer.press("📋 Có, xuất danh sách từng hộ")
    [named] = await core.run_tasks()
    assert (await file_in(core, named.message)).name.startswith("danh-sach-ho-")
    actions = [(e[1], e[2], e[3], e[4]) for e in await _audit(core)]
    assert ("member:1", "export.request", "households", {"personal": True}) in actions
    await team.volunteer.press_data("exhy")  # forged by someone else: refused, nothing queued
    assert "dành cho" in team.volunteer.text and await core.run_tasks() == []


# ---- what ✅ saves is what the summary showed ------------------------------------------------------------


@pytest.mark.telegram_only  # presses buttons on an older message: on Zalo only the newest menu answers
async def test_an_earlier_summary_cannot_save_a_draft_changed_since(team: Team, core: Core) -> None:
    v = team.volunteer
    await open_household(v, "H003", "H003")
    await v.press("🚫 Không làm được")
    reasons = v.last
    await v.press("Không có ai ở nhà")
    old_confirm = v.data_for("✅ Xác nhận")
    v.last = reasons  # back on the reasons message, still on screen above the summary
    await v.press("◀ Quay lại đánh dấu")
    for skill in ("Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"):
        await v.press(f"☐ {skill}")
    await v.press_data(old_confirm)
    assert "đã thay đổi" in v.text and "☑ Tài khoản mức 2 đã kích hoạt" in v.labels
    assert await value(core, "SELECT count(*) FROM visits") == 0  # nothing saved unseen


async def test_a_typed_word_after_going_back_from_another_reason_is_not_taken_as_the_reason(team: Team) -> None:
    v = team.volunteer
    await open_household(v, "H001", "H001")
    await v.press("🚫 Không làm được")
    await v.press("Lý do khác")
    await v.press("◀ Quay lại đánh dấu")
    await v.press("☐ Đã cài VNeID")
    await v.send("abc")
    assert "vẫn giữ lần ghi" in v.text and "☑ Đã cài VNeID" in v.labels  # the ticks again, not a reason


async def test_a_correction_with_every_tick_removed_is_not_saved_empty(team: Team, core: Core) -> None:
    v = team.volunteer
    await open_household(v, "H001", "H001")
    await v.press("☐ Đã cài VNeID")
    await v.press("Tiếp ▶")
    await v.press("Bỏ qua ▶")
    await v.press("Bỏ qua ▶")
    await v.press("✅ Xác nhận")
    await v.press("✏️ Sửa")
    await v.press("☑ Đã cài VNeID")
    await v.send("xong")  # typed: back to the ticks, not to a summary of nothing
    assert "☐ Đã cài VNeID" in v.labels and "✅ Xác nhận" not in v.labels
    await v.press("Tiếp ▶")
    assert "ít nhất một việc" in v.text
    assert await value(core, "SELECT skills FROM visits") == 1


async def test_the_volunteer_who_raised_a_household_sees_it_and_hears_when_it_is_taken_and_done(
    team: Team, core: Core
) -> None:
    v, officer, mail = team.volunteer, team.officer, Mail(core)
    await open_household(v, "H002", "H002")
    await v.press("🚫 Không làm được")
    await v.press("Chưa có căn cước gắn chip")
    await v.press("✅ Xác nhận")
    await v.press("🙋 Nhờ cán bộ xã")
    await v.command("requests")
    assert "Hộ anh/chị đã chuyển cán bộ xã" in v.text and "H002 · Trần Thị Bình" in v.text
    await officer.press_data(press_on(mail.last(officer), "✋ Nhận giúp"))
    assert "Cán bộ Hoa" in mail.last(v).text and "đã có" in mail.last(v).text
    await officer.press("✅ Đã giúp xong")
    assert "giúp xong" in mail.last(v).text
    await v.command("requests")
    assert "đã xong" in v.text


async def test_my_week_counts_a_household_once_and_only_when_this_volunteer_helped_reach_it(
    team: Team, core: Core
) -> None:
    v = team.volunteer
    for skills in (["Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"], ["Đã thanh toán"]):
        await open_household(v, "H002", "H002")
        for skill in skills:
            await v.press(f"☐ {skill}")
        await v.press("Tiếp ▶")
        await v.press("Bỏ qua ▶")
        await v.press("Bỏ qua ▶")
        await v.press("✅ Xác nhận")
    await v.press_data("vm")
    assert "Hôm nay: 2 lượt thăm, 1 hộ đạt" in v.text
