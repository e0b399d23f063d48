"""Roles, invites, the roster, visits and progress — through the real engine on a real SQLite file."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from bot.access import PERMISSIONS, Role
from bot.app import Core
from bot.coverage import REACHED, Skill, is_reached
from bot.store import audit
from tests.conftest import Clock
from tests.people import Person, file_in
from tests.team_fixtures import ROSTER_CSV, Team, build_team, invite_code

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo


@pytest.fixture
async def team(core: Core) -> Team:
    return await build_team(core)


async def count(core: Core, sql: str, *args: object) -> int:
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(sql, args)
    return int(next(iter(rows))[0])


# ---- the reached rule -------------------------------------------------------------------------------


def test_reached_needs_one_person_with_all_three_skills() -> None:
    assert is_reached([("", int(REACHED))])
    assert is_reached([("", int(Skill.LEVEL2_ACTIVE | Skill.DVC_LOGIN)), ("", int(Skill.ONLINE_SERVICE))])
    assert not is_reached([("lan", int(Skill.LEVEL2_ACTIVE | Skill.DVC_LOGIN)), ("an", int(Skill.ONLINE_SERVICE))])
    assert not is_reached([("", int(Skill.VNEID_INSTALLED | Skill.DVC_LOGIN | Skill.ONLINE_SERVICE))])
    assert not is_reached([])


# ---- role × action matrix ---------------------------------------------------------------------------

ACTIONS = {  # action -> (button data that starts it, a word of the allowed answer)
    "visit.log": ("vs", "Gõ mã hộ"),
    "todo.view": ("td:1", "Hộ chưa đạt"),
    "progress.view": ("pg", "Tiến độ"),
    "team.manage": ("mg", "Quản lý"),
    "team.view": ("tl", "Tổ công nghệ số"),
    "invite.create": ("ir", "Tạo mã mời cho ai"),
    "roster.import": ("ih", "Nhập danh sách hộ"),
    "roster.export": ("ex", "chuẩn bị tệp Excel"),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ["citizen", "volunteer", "officer", "deactivated"])
async def test_role_action_matrix(team: Team, core: Core, who: str, action: str) -> None:
    person = {
        "citizen": team.citizen,
        "volunteer": team.volunteer,
        "officer": team.officer,
        "deactivated": team.other_volunteer,
    }[who]
    if who == "deactivated":
        await team.officer.press_data("tl")
        await team.officer.press("✅ Tình nguyện viên Lan")
        await team.officer.press("⛔ Ngừng hoạt động")
    role = {
        "citizen": Role.CITIZEN,
        "volunteer": Role.VOLUNTEER,
        "officer": Role.OFFICER,
        "deactivated": Role.CITIZEN,
    }[who]
    data, allowed_word = ACTIONS[action]
    await person.press_data(data)
    if role in PERMISSIONS[action]:
        assert allowed_word in person.text, person.text
    else:
        assert "dành cho thành viên Tổ công nghệ số hoặc cán bộ xã" in person.text


async def test_menus_show_what_the_role_allows(team: Team) -> None:
    await team.citizen.command("start")
    assert "📝 Ghi nhận hỗ trợ hộ" not in team.citizen.labels
    await team.volunteer.command("menu")
    assert {"📝 Ghi nhận hỗ trợ hộ", "📋 Việc cần làm", "📊 Tiến độ"} <= set(team.volunteer.labels)
    assert "🛠 Quản lý (cán bộ xã)" not in team.volunteer.labels
    await team.officer.command("menu")
    assert "🛠 Quản lý (cán bộ xã)" in team.officer.labels


# ---- invites -----------------------------------------------------------------------------------------


async def test_invite_created_in_the_bot_joins_a_volunteer_to_chosen_villages(team: Team, core: Core) -> None:
    officer = team.officer
    await officer.press_data("ir")
    await officer.press("🙋 Thành viên Tổ công nghệ số")
    await officer.press("☐ Thôn 3")
    await officer.press("☐ Thôn 4")
    await officer.press("☑ Thôn 4")  # untick
    await officer.press("Tiếp ▶")
    await officer.send("Đỗ Văn Giang")
    code = next(word for word in officer.text.split() if len(word) == 9 and word[4] == "-")
    newcomer = Person(core, "950")
    await newcomer.command("join", code.lower().replace("-", " "))  # typed loosely: still accepted
    assert "Chào mừng Đỗ Văn Giang" in newcomer.text and "Thôn 3" in newcomer.text and "Thôn 4" not in newcomer.text
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT code_hash FROM invites")
    assert all(code.replace("-", "") not in str(r[0]) for r in rows), "codes are stored hashed"


async def test_invite_reuse_expiry_and_revocation(team: Team, core: Core, clock: Clock) -> None:
    code = await invite_code(core, role="volunteer", village_ids=[team.village_ids["Thôn 1"]], label="A")
    first, second = Person(core, "960"), Person(core, "961")
    await first.command("join", code)
    assert "Chào mừng" in first.text
    await second.command("join", code)
    assert "đã được dùng" in second.text

    late = await invite_code(core, role="volunteer", village_ids=[], label="B")
    clock.advance(days=7, seconds=1)
    await second.command("join", late)
    assert "hết hạn" in second.text

    revoked = await invite_code(core, role="volunteer", village_ids=[], label="Người bị huỷ")
    await team.officer.press_data("ir")
    await team.officer.press("🗑 Huỷ mã của Người bị huỷ")
    assert "Đã huỷ mã mời" in team.officer.text
    await second.command("join", revoked)
    assert "đã được dùng" in second.text
    assert await count(core, "SELECT count(*) FROM members WHERE chat_id = '961'") == 0


async def test_five_wrong_codes_lock_joining_for_an_hour(core: Core, clock: Clock) -> None:
    good = await invite_code(core, role="volunteer", village_ids=[], label="C")
    guesser = Person(core, "970")
    for _ in range(5):
        await guesser.command("join", "AAAA-BBBB")
        assert "không đúng" in guesser.text
    await guesser.command("join", good)
    assert "sau 1 giờ" in guesser.text
    clock.advance(hours=1, seconds=1)
    await guesser.command("join", good)
    assert "Chào mừng" in guesser.text


async def test_bare_join_asks_for_the_code(core: Core) -> None:
    code = await invite_code(core, role="officer", village_ids=[], label="D")
    person = Person(core, "980")
    await person.command("join")
    assert "/join ABCD-EFGH" in person.text
    await person.send(code)
    assert "Chào mừng" in person.text


# ---- the roster ----------------------------------------------------------------------------------------


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_import_with_faults_changes_nothing(team: Team, core: Core) -> None:
    bad = ROSTER_CSV.replace("H003,Lê Văn Cường", ",Lê Văn Cường") + "H001,Trùng Mã,Thôn 1,,2,\n"
    before = await count(core, "SELECT count(*) FROM households")
    await team.officer.upload("ds.csv", bad.encode())
    assert "chưa nhập gì" in team.officer.text
    assert "Dòng 4: thiếu mã hộ" in team.officer.text and "trùng với dòng 2" in team.officer.text
    assert await count(core, "SELECT count(*) FROM households") == before


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_reimport_updates_by_code_and_keeps_visit_history(team: Team, core: Core) -> None:
    await log_visit(team.volunteer, "H001", ["Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"])
    changed = ROSTER_CSV.replace("Nguyễn Văn An,Thôn 1,Xóm Đông,4", "Nguyễn Văn An,Thôn 1,Xóm Tây,5")
    await team.officer.upload("ds2.csv", (changed + "H004,Mới Thêm,Thôn 1,,1,\n").encode())
    assert "1 hộ mới, 5 hộ cập nhật" in team.officer.text
    assert await count(core, "SELECT count(*) FROM households") == 6
    assert (
        await count(
            core,
            "SELECT count(*) FROM visits v JOIN households h ON h.id = v.household_id"
            " WHERE h.code = 'H001' AND h.address = 'Xóm Tây' AND h.reached_at IS NOT NULL",
        )
        == 1
    )


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_unknown_villages_are_listed_then_added_on_confirmation(team: Team, core: Core) -> None:
    file = (ROSTER_CSV + "H900,Người Mới,Thôn Chín,,1,\n").encode()
    await team.officer.upload("ds.csv", file)
    assert "Thôn Chín" in team.officer.text and "chưa có trong danh sách" in team.officer.text
    assert await count(core, "SELECT count(*) FROM households WHERE code = 'H900'") == 0
    await team.officer.press("➕ Thêm các thôn này")
    assert "Đã thêm 1 thôn" in team.officer.text
    await team.officer.upload("ds.csv", file)
    assert "1 hộ mới" in team.officer.text


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_files_from_non_officers_are_not_read(team: Team, core: Core) -> None:
    await team.citizen.upload("ds.csv", ROSTER_CSV.encode())
    assert "chỉ đọc được chữ, chưa nghe" in team.citizen.text
    await team.volunteer.upload("ds.csv", ROSTER_CSV.replace("H001", "Z001").encode())
    assert "chỉ nhận tệp danh sách hộ" in team.volunteer.text
    assert await count(core, "SELECT count(*) FROM households WHERE code = 'Z001'") == 0


async def test_export_is_an_xlsx_with_status_and_volunteer(team: Team, core: Core) -> None:
    await log_visit(team.volunteer, "H002", ["Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"])
    await team.officer.press_data("exh")
    [queued] = await team.officer.press_data("exhy")
    assert "chuẩn bị tệp Excel" in queued.text  # the file is built in the background, not in the turn
    [file] = await core.run_tasks()
    reply = file.message
    assert file.to == team.officer.recipient and "Danh sách hộ của" in reply.text
    file = await file_in(core, reply)
    assert file.name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(file.content), read_only=True).active
    assert sheet is not None
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    h002 = next(row for row in cells if "H002" in row)
    assert "Đã đạt" in h002 and "Tình nguyện viên Nam" in h002
    entries = await audit_entries(core)
    assert ("member:1", "export", "households") in [(e[1], e[2], e[3]) for e in entries]


async def audit_entries(core: Core) -> list[tuple[str, str, str, str, dict[str, object]]]:
    async with core.db.transaction() as conn:
        return await audit.entries(conn, "11242")


# ---- visits ---------------------------------------------------------------------------------------------


async def skip_to_summary(person: Person) -> None:
    """From the ticks to the summary, with no name and no note."""
    await person.press("Tiếp ▶")
    await person.press("Bỏ qua ▶")
    await person.press("Bỏ qua ▶")


async def log_visit(person: Person, query: str, skills: list[str], name: str | None = None) -> None:
    await person.press_data("vs")
    await person.send(query)
    await person.press(next(label for label in person.labels if query in label))
    for skill in skills:
        await person.press(f"☐ {skill}")
    await person.press("Tiếp ▶")
    if name:
        await person.send(name)
    else:
        await person.press("Bỏ qua ▶")
    await person.press("Bỏ qua ▶")
    await person.press("✅ Xác nhận")
    assert "Đã lưu" in person.text, person.text


async def test_visit_flow_saves_once_and_shows_village_progress(team: Team, core: Core) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.send("binh")  # unaccented, part of the name
    assert v.labels[0].startswith("H002 · Trần Thị Bình")
    await v.press("H002")
    await v.press("☐ Tài khoản mức 2")
    await v.press("☐ Đăng nhập được")
    await v.press("☐ Đã nộp hoặc tra cứu")
    assert "☑ Đã nộp hoặc tra cứu hồ sơ trực tuyến" in v.labels
    await v.press("Tiếp ▶")
    await v.send("Chị Hạnh")
    await v.send("Đã nộp hồ sơ khai sinh")
    assert "Chị Hạnh" in v.text and "mức 2, đăng nhập DVC, nộp/tra cứu hồ sơ" in v.text
    confirm = v.data_for("✅ Xác nhận")
    await v.press_data(confirm)
    assert "Thôn 1: 1/3 hộ đạt (33,3 %), tuần này +1" in v.text
    await v.press_data(confirm)  # a double tap
    assert "đã được lưu rồi" in v.text
    assert await count(core, "SELECT count(*) FROM visits") == 1


async def test_household_outside_own_villages_is_refused(team: Team, core: Core) -> None:
    h101 = await count(core, "SELECT id FROM households WHERE code = 'H101'")
    await team.volunteer.send("/visit")
    await team.volunteer.command("visit")
    await team.volunteer.send("H101")
    assert "Không tìm thấy" in team.volunteer.text  # search only covers own villages
    await team.volunteer.press_data(f"vh:{h101}")  # an old or forged button
    assert "không thuộc thôn anh/chị phụ trách" in team.volunteer.text


async def test_other_commune_is_invisible(team: Team, core: Core) -> None:
    async with core.db.transaction() as conn:
        await conn.execute("INSERT INTO villages (commune, code, name, folded) VALUES ('99999', 'X', 'X', 'x')")
        await conn.execute(
            "INSERT INTO households (commune, code, code_key, head_name, head_folded, village_id, created_at,"
            " updated_at) VALUES ('99999', 'B1', 'b1', 'Ngoài Xã', 'ngoai xa', last_insert_rowid(), 'x', 'x')"
        )
        await conn.execute(
            "INSERT INTO members (channel, chat_id, commune, role, label, joined_at)"
            " VALUES ('telegram', '777', '99999', 'volunteer', 'Người xã khác', 'x')"
        )
    other_household = await count(core, "SELECT id FROM households WHERE commune = '99999'")
    other_member = await count(core, "SELECT id FROM members WHERE commune = '99999'")
    await team.officer.press_data(f"vh:{other_household}")
    assert "không thuộc thôn" in team.officer.text
    await team.officer.press_data(f"tm:{other_member}")
    assert "Không tìm thấy thành viên" in team.officer.text
    await team.officer.press_data(f"tx:{other_member}")
    assert await count(core, "SELECT active FROM members WHERE id = ?", other_member) == 1


async def test_new_household_added_in_the_field(team: Team, core: Core) -> None:
    v = team.volunteer
    await v.command("visit")
    await v.press("➕ Hộ mới")
    await v.send("12345678901")  # not a name (and maybe an ID number)
    assert "Họ tên cần có chữ" in v.text
    await v.send("Vũ Thị Hằng")
    await v.press("☐ Đã cài VNeID")
    await skip_to_summary(v)
    await v.press("✅ Xác nhận")
    assert "TD-0001 · Vũ Thị Hằng" in v.text and "Thôn 1: 0/4 hộ đạt" in v.text
    assert await count(core, "SELECT added_in_field FROM households WHERE code = 'TD-0001'") == 1


async def test_reached_over_two_visits_and_withdrawal(team: Team, core: Core) -> None:
    await log_visit(team.volunteer, "H003", ["Tài khoản mức 2", "Đăng nhập được"])
    assert "0/3 hộ đạt" in team.volunteer.text
    await log_visit(team.volunteer, "H003", ["Đã nộp hoặc tra cứu"])
    assert "1/3 hộ đạt" in team.volunteer.text
    await team.volunteer.press("↩️ Rút lại")  # asks first; nothing changed yet
    assert "Rút lại lần ghi hộ H003" in team.volunteer.text
    assert team.volunteer.labels[0] == "◀ Không, giữ lại"  # where a hurried second tap lands
    assert await count(core, "SELECT count(*) FROM visits WHERE withdrawn_at IS NULL") == 2
    await team.volunteer.press("↩️ Có, rút lại")
    assert "Đã rút lại" in team.volunteer.text and "0/3 hộ đạt" in team.volunteer.text


async def test_correction_window_is_24_hours(team: Team, core: Core, clock: Clock) -> None:
    await log_visit(team.volunteer, "H001", ["Đã cài VNeID"])
    edit = team.volunteer.data_for("✏️ Sửa")
    withdraw = team.volunteer.data_for("↩️ Rút lại")
    await team.other_volunteer.press_data(withdraw)
    assert "chính mình" in team.other_volunteer.text
    clock.advance(hours=23, minutes=59)
    await team.volunteer.press_data(edit)
    await team.volunteer.press("☐ Tài khoản mức 2")
    await skip_to_summary(team.volunteer)
    await team.volunteer.press("✅ Xác nhận")
    assert await count(core, "SELECT skills FROM visits") == int(Skill.VNEID_INSTALLED | Skill.LEVEL2_ACTIVE)
    clock.advance(minutes=2)
    await team.volunteer.press_data(withdraw)
    assert "quá 24 giờ" in team.volunteer.text
    assert await count(core, "SELECT count(*) FROM visits WHERE withdrawn_at IS NULL") == 1


async def test_forged_visit_buttons(team: Team) -> None:
    v = team.volunteer
    for data in (
        "vt:9",
        "vt:x",
        "vt:abc:1",
        "vk",
        "vk:abc",
        "vc:deadbeef",
        "ve:99999",
        "vw:abc",
        "vh:-1",
        "vnv:424242",
        "td:0",
    ):
        await v.press_data(data)
        assert v.last and v.text, data
    await v.press_data("vnv:424242")
    assert "không thuộc thôn" in v.text


# ---- progress and to-do ---------------------------------------------------------------------------------


async def test_progress_for_volunteer_and_officer(team: Team) -> None:
    await log_visit(team.volunteer, "H001", ["Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"])
    await team.volunteer.command("progress")
    assert "Thôn 1: 1/3 hộ đạt (33,3 %), tuần này +1" in team.volunteer.text
    assert "Thôn 2" not in team.volunteer.text
    await team.officer.command("progress")
    assert "Thôn 1: 1/3" in team.officer.text and "Thôn 2: 0/2 hộ đạt (0,0 %)" in team.officer.text
    assert "Cả xã: 1/5 hộ đạt (20,0 %)" in team.officer.text


async def test_todo_lists_priority_first_then_longest_since_visit(team: Team, clock: Clock) -> None:
    await log_visit(team.volunteer, "H001", ["Đã cài VNeID"])
    clock.advance(days=1)
    await team.volunteer.command("todo")
    lines = [line for line in team.volunteer.text.splitlines() if line.startswith("• ")]
    assert [line.split(" · ")[0] for line in lines] == ["• H002", "• H003", "• H001"]
    assert "chưa hỗ trợ lần nào" in lines[1] and "lần cuối" in lines[2]
    await team.volunteer.press("📝 H002")
    assert "Người được hướng dẫn nay làm được gì" in team.volunteer.text


async def test_same_update_twice_records_one_visit(team: Team, core: Core) -> None:
    from bot.messages import Inbound

    v = team.volunteer
    await v.command("visit")
    await v.send("H001")
    await v.press("H001")
    await v.press("☐ Đã cài VNeID")
    await skip_to_summary(v)
    confirm = Inbound(v.channel, v.chat, "dup-1", "button", data=v.data_for("✅ Xác nhận"), message_id="1")
    assert await core.engine.handle(confirm)
    assert await core.engine.handle(confirm) == []
    assert await count(core, "SELECT count(*) FROM visits") == 1


async def test_audit_log_records_who_did_what(team: Team, core: Core) -> None:
    await log_visit(team.volunteer, "H001", ["Đã cài VNeID"])
    actions = {(e[2], e[3].split(":")[0]) for e in await audit_entries(core)}
    assert {("join", "invite"), ("import", "households"), ("create", "visit")} <= actions
    for entry in await audit_entries(core):
        assert "Nguyễn" not in str(entry) and "Trần" not in str(entry)  # ids and counts, not names


def test_cli_invite_and_household_import_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    assert main(["invite", "officer", "--commune", "11242", "--name", "Chủ tịch"]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 9 and code[4] == "-"
    roster = tmp_path / "ds.csv"
    roster.write_text(ROSTER_CSV + "H900,Người Mới,Thôn Chín,,1,\n", encoding="utf-8")
    assert main(["households", "import", str(roster), "--commune", "11242"]) == 1
    assert "Thôn Chín" in capsys.readouterr().err
    assert main(["households", "import", str(roster), "--commune", "11242", "--create-villages"]) == 0
    assert "đã nhập 6 hộ mới, cập nhật 0 hộ" in capsys.readouterr().out
    out = tmp_path / "out.xlsx"
    assert main(["households", "export", "--commune", "11242", str(out)]) == 0
    assert out.read_bytes()[:2] == b"PK"
    assert main(["invite", "officer", "--commune", "424242"]) == 2


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_xlsx_roster_sent_to_the_bot(team: Team, core: Core) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Ma ho", "Ho ten chu ho", "Thon/xom/to dan pho", "So nhan khau", "Uu tien"])  # no diacritics
    sheet.append(["X001", "Đinh Thị Thu", "thon 3", 4, "người cao tuổi, hộ nghèo"])
    sheet.append(["X002", "Lý Văn Sơn", "Thôn 3", "=1+2", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    await team.officer.upload("ds.xlsx", buffer.getvalue())
    assert "Dòng 3" in team.officer.text and "công thức" in team.officer.text
    sheet.cell(row=3, column=4).value = 2
    buffer = io.BytesIO()
    book.save(buffer)
    await team.officer.upload("ds.xlsx", buffer.getvalue())
    assert "2 hộ mới" in team.officer.text
    assert await count(core, "SELECT priority_rank FROM households WHERE code = 'X001'") == 1


async def test_buttons_on_an_older_copy_of_a_visit_screen_never_act_on_another_draft(team: Team, core: Core) -> None:
    """A screen delivered twice (after a crash) or scrolled back to: its buttons say what became of it."""
    v = team.volunteer
    await v.press_data("vs")
    await v.send("H001")
    await v.press("H001")
    old_toggle = v.data_for("☐ Tài khoản mức 2")
    for skill in ("Tài khoản mức 2", "Đăng nhập được", "Đã nộp hoặc tra cứu"):
        await v.press(f"☐ {skill}")
    await skip_to_summary(v)
    await v.press("✅ Xác nhận")
    assert "Đã lưu" in v.text
    await v.press_data(old_toggle)  # the first draft's screen, after it was saved
    assert "đã được lưu rồi" in v.text and "Thôn 1: 1/3 hộ đạt" in v.text

    await v.press_data("vs")  # a second visit is being filled in
    await v.send("H003")
    await v.press("H003")
    await v.press("☐ Đã cài VNeID")
    await v.press_data(old_toggle)
    assert "đã được lưu rồi" in v.text  # the saved draft's button still says so, the open draft is kept
    await v.press_data("vt:0123456789ab:1")  # a draft that was never saved (cancelled, or forged)
    assert "tin nhắn cũ" in v.text and "☑ Đã cài VNeID" in v.labels  # the open draft, as it was
    await skip_to_summary(v)
    await v.press("✅ Xác nhận")
    assert await count(core, "SELECT count(*) FROM visits") == 2


@pytest.mark.parametrize(
    "name", ["Trần Thị Bình", "Hoàng Văn Em", "Hà Thị Mai", "Lê Văn Sinh", "Trịnh Hữu Phí", "Ngô Thị Chứng"]
)
async def test_an_invitee_name_that_looks_like_a_guide_word_is_still_a_name(team: Team, name: str) -> None:
    officer = team.officer
    await officer.press_data("ir")
    await officer.press("🙋 Thành viên")
    await officer.press("☐ Thôn 1")
    await officer.press("Tiếp ▶")
    await officer.send(name)
    assert any(len(word) == 9 and word[4] == "-" for word in officer.text.split()), officer.text


async def test_a_question_typed_as_an_invitee_name_is_refused_with_the_reason(team: Team) -> None:
    officer = team.officer
    await officer.press_data("ir")
    await officer.press("🙋 Thành viên")
    await officer.press("☐ Thôn 1")
    await officer.press("Tiếp ▶")
    await officer.send("làm sao để đăng ký vneid cho mẹ tôi?")
    assert "câu hỏi" in officer.text and "Trần Thị Bình" in officer.text
