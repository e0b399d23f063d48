"""Scheduled jobs called as plain async functions with a fixed `now`: the digest's figures checked exactly on
a seeded database, time-zone boundaries with the server in UTC, each (job, period, recipient) once across
re-runs and restarts, catch-up after downtime, one scheduler among several processes, reminders and
escalations — and the digest's chart and XLSX report."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from PIL import Image

from bot.app import Core, build_core
from bot.config import Settings
from bot.services import figures
from bot.services.digest import chart_png, render_text
from bot.store import leases, onestop
from scheduler import jobs
from tests.conftest import Clock
from tests.people import Mail, Person, data_on, file_in, labels_of, press_on
from tests.team_fixtures import Team, build_team, invite_code

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo

HN = ZoneInfo("Asia/Ho_Chi_Minh")
TZ = "Asia/Ho_Chi_Minh"


def local(*args: int) -> datetime:
    """A moment given in Hà Nội time, as the aware UTC datetime the bot stores."""
    return datetime(*args, tzinfo=HN).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
async def team(core: Core, clock: Clock) -> Team:
    clock.now = local(2026, 11, 10, 9, 0)  # set up on a Tuesday two weeks before
    return await build_team(core)


async def run_sql(core: Core, sql: str, *args: object) -> None:
    async with core.db.transaction() as conn:
        await conn.execute(sql, args)


async def ids(core: Core) -> dict[str, int]:
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT code, id FROM households")
    return {str(r[0]): int(r[1]) for r in rows}


async def seed_week_47(core: Core) -> None:
    """Week 47 of 2026 runs Monday 16/11 00:00 to Sunday 22/11 24:00, Hà Nội time.

    Thôn 1 (H001–H003): H001 reached in week 46, H002 on Sunday 23:59 (inside), H003 on Monday 00:01
    of week 48 (outside). Thôn 2 (H101, H102): nothing reached.
    """
    h = await ids(core)
    stamp = lambda moment: moment.isoformat(timespec="seconds")  # noqa: E731
    await run_sql(
        core, "UPDATE households SET reached_at = ? WHERE id = ?", stamp(local(2026, 11, 12, 10, 0)), h["H001"]
    )
    await run_sql(
        core, "UPDATE households SET reached_at = ? WHERE id = ?", stamp(local(2026, 11, 22, 23, 59)), h["H002"]
    )
    await run_sql(
        core, "UPDATE households SET reached_at = ? WHERE id = ?", stamp(local(2026, 11, 23, 0, 1)), h["H003"]
    )
    visits = [  # (household, member, when, skills, outcome)
        ("H002", 2, local(2026, 11, 22, 23, 59), 14, None),
        ("H003", 2, local(2026, 11, 23, 0, 1), 14, None),
        ("H101", 3, local(2026, 11, 18, 9, 0), 0, "not_home"),
        ("H101", 3, local(2026, 11, 19, 9, 0), 1, None),
        ("H001", 2, local(2026, 11, 12, 10, 0), 14, None),
    ]
    for n, (code, member, when, skills, outcome) in enumerate(visits):
        await run_sql(
            core,
            "INSERT INTO visits (household_id, member_id, request_key, skills, created_at, updated_at, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            h[code],
            member,
            f"seed:{n}",
            skills,
            stamp(when),
            stamp(when),
            outcome,
        )
    for n, (created, status, taken, closed) in enumerate(
        [
            (local(2026, 11, 16, 8, 0), "done", local(2026, 11, 16, 9, 0), local(2026, 11, 17, 9, 0)),
            (local(2026, 11, 18, 8, 0), "open", None, None),  # waiting 4 days at the week's end
            (local(2026, 11, 22, 8, 0), "open", None, None),  # waiting 16 hours: not "too long"
            (local(2026, 11, 9, 8, 0), "done", local(2026, 11, 9, 9, 0), local(2026, 11, 10, 9, 0)),  # week 46
        ]
    ):
        await run_sql(
            core,
            "INSERT INTO help_requests (commune, village_id, channel, chat_id, topic, time_pref, status,"
            " routed_to, created_at, taken_at, closed_at)"
            " VALUES ('11242', 1, 'telegram', ?, 'other', 'any', ?, 'village', ?, ?, ?)",
            f"c{n}",
            status,
            stamp(created),
            stamp(taken) if taken else None,
            stamp(closed) if closed else None,
        )
    for n, (request, stars, when) in enumerate(
        [(1, 5, local(2026, 11, 17, 10, 0)), (1, 3, local(2026, 11, 18, 10, 0)), (4, 1, local(2026, 11, 10, 10, 0))]
    ):
        await run_sql(
            core,
            "INSERT INTO ratings (subject_kind, subject_id, person, stars, created_at) VALUES ('help', ?, ?, ?, ?)",
            str(request),
            f"p{n}",
            stars,
            stamp(when),
        )
    for guide, when in [
        ("vneid-level2", local(2026, 11, 16, 10, 0)),
        ("vneid-level2", local(2026, 11, 20, 10, 0)),
        ("dvc-login", local(2026, 11, 21, 10, 0)),
        ("dvc-login", local(2026, 11, 23, 0, 1)),  # next week
    ]:
        await run_sql(
            core,
            "INSERT INTO guide_views (guide_id, channel, source, viewed_at) VALUES (?, 'telegram', 'menu', ?)",
            guide,
            stamp(when),
        )


# ---- figures -------------------------------------------------------------------------------------------


def test_weeks_and_months_are_local_calendar_periods() -> None:
    week = figures.week("2026-W47", TZ)
    assert week.start == local(2026, 11, 16, 0, 0) and week.end == local(2026, 11, 23, 0, 0)
    month = figures.month("2026-12", TZ)
    assert month.start == local(2026, 12, 1, 0, 0) and month.end == local(2027, 1, 1, 0, 0)
    # Sunday 23:59 in Hà Nội is still week 47; Monday 00:01 is week 48 (the server's UTC says Sunday for both).
    assert figures.last_ended("week", local(2026, 11, 22, 23, 59), TZ).label == "2026-W46"
    assert figures.last_ended("week", local(2026, 11, 23, 0, 1), TZ).label == "2026-W47"
    assert figures.last_ended("month", local(2027, 1, 1, 0, 1), TZ).label == "2026-12"
    with pytest.raises(ValueError):
        figures.week("2026-47", TZ)


async def test_digest_figures_are_exact_on_a_seeded_database(team: Team, core: Core) -> None:
    await seed_week_47(core)
    period = figures.week("2026-W47", TZ)
    made = await core.db.read(
        lambda conn: figures.compute(conn, commune="11242", period=period, target_date="2026-12-31")
    )
    by_name = {v.name: v for v in made.villages}
    assert (by_name["Thôn 1"].total, by_name["Thôn 1"].reached, by_name["Thôn 1"].reached_before) == (3, 2, 1)
    assert (by_name["Thôn 2"].total, by_name["Thôn 2"].reached) == (2, 0)
    assert (made.total, made.reached, made.reached_before) == (5, 2, 1)
    assert [v.name for v in made.behind][:2] == ["Thôn 2", "Thôn 1"]
    assert made.pace_per_week == 0.5  # 2 households in the 4 weeks before the end
    assert made.projected == date(2027, 1, 4)  # 3 left at 0.5 a week: 6 weeks after Monday 23/11
    assert made.visits == 3 and made.visits_nothing_done == 1  # Sunday 23:59 in, Monday 00:01 out
    assert made.visits_by_volunteer == [("Tình nguyện viên Lan", 2), ("Tình nguyện viên Nam", 1)]
    assert made.idle_volunteers == []
    assert (made.help_new, made.help_done, made.help_waiting) == (3, 1, 1)
    assert made.guide_views == [("vneid-level2", 2), ("dvc-login", 1)]
    assert (made.ratings, made.rating_average, made.ratings_good) == (2, 4.0, 1)
    assert (made.ratings_before, made.ratings_good_before) == (1, 0)  # week 46's one rating, 1 star


async def test_the_digest_text_shows_every_figure_and_renders_for_an_empty_commune(
    team: Team, core: Core, settings: Settings
) -> None:
    await seed_week_47(core)
    period = figures.week("2026-W47", TZ)
    made = await core.db.read(
        lambda conn: figures.compute(conn, commune="11242", period=period, target_date="2026-12-31")
    )
    text = render_text(made, core.services.content, TZ, settings.content_dir)
    for expected in (
        "Báo cáo tuần 47/2026 (16/11–22/11)",
        "2/5 hộ (40,0 %), trong tuần +1",
        "• Thôn 1: 2/3 (66,7 %) +1",
        "Chậm nhất: Thôn 2 (0,0 %), Thôn 1 (66,7 %)",
        "dự kiến đạt 100 % vào 04/01/2027 — mục tiêu 31/12/2026: CHẬM",
        "3 lượt hỗ trợ (1 lượt chưa làm được)",
        "• Tình nguyện viên Lan: 2 lượt",
        "3 mới, 1 đã xong, ⏰ 1 chờ quá 48 giờ",
        "Hài lòng: 50,0 % đánh giá từ 4 sao (2 đánh giá, trung bình 4,0/5; kỳ trước 0,0 %) — mục tiêu 90 %: chưa đạt",
        "Người trưởng thành dùng dịch vụ công trực tuyến (mục tiêu 50 %): bot chưa đo được",
    ):
        assert expected in text, (expected, text)
    # The same template for a commune with nothing yet.
    nothing = await core.db.read(lambda conn: figures.compute(conn, commune="99999", period=period, target_date=None))
    blank = render_text(nothing, core.services.content, TZ, settings.content_dir)
    assert "0/0 hộ" in blank and "cần nhập danh sách hộ" in blank


def test_the_chart_is_a_valid_png(tmp_path: object) -> None:
    period = figures.week("2026-W47", TZ)
    made = figures.Figures(
        "11242",
        period,
        [figures.VillageLine("Thôn 1", 10, 6, 4), figures.VillageLine("Thôn 2", 8, 1, 0)],
        1.0,
        [],
        [],
        0,
        0,
        0,
        0,
        0,
        [],
        0,
        None,
        0,
    )
    data = chart_png(made)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size[0] >= 600 and image.size[1] >= 200


# ---- sending: once, on time, caught up ------------------------------------------------------------------


async def test_the_weekly_digest_goes_out_monday_0730_once_even_across_a_restart(
    team: Team, core: Core, clock: Clock, settings: Settings
) -> None:
    mail = Mail(core)
    clock.now = local(2026, 11, 23, 7, 29)
    assert await jobs.digest(core, clock.now, "week", heavy=False) == 0  # not yet 07:30
    clock.now = local(2026, 11, 23, 7, 31)
    assert await jobs.digest(core, clock.now, "week", heavy=False) == 1
    text, chart = mail.take(team.officer)
    assert "Báo cáo tuần 47/2026" in text.text and "📥 Tải báo cáo XLSX" in labels_of(text)
    image = await file_in(core, chart)  # on Zalo: a photo by signed link
    assert image.is_image and image.content.startswith(b"\x89PNG")
    assert mail.of(team.volunteer) == []  # officers only
    assert await jobs.digest(core, clock.now, "week", heavy=False) == 0  # a second run
    restarted = await build_core(settings, clock=clock)  # a restart: same database, fresh process state
    try:
        assert await jobs.digest(restarted, clock.now, "week", heavy=False) == 0
    finally:
        await restarted.close()
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'digest-week:%'")
    assert rows[0][0] == 2  # text and chart, once


async def test_after_downtime_only_the_last_ended_period_is_caught_up(team: Team, core: Core, clock: Clock) -> None:
    mail = Mail(core)
    clock.now = local(2026, 12, 2, 15, 0)  # Wednesday: down since before Monday 30/11 and 1/12
    assert await jobs.digest(core, clock.now, "week", heavy=False) == 1
    assert await jobs.digest(core, clock.now, "month", heavy=False) == 1
    texts = [m.text for m in mail.of(team.officer) if not (m.attachment or m.photo_url)]
    assert any("tuần 48/2026" in t for t in texts) and any("Báo cáo tháng 11/2026" in t for t in texts)
    assert not any("tuần 47/2026" in t for t in texts)  # two weeks old: not sent
    clock.now = local(2026, 12, 6, 23, 59)  # the running week never
    assert await jobs.digest(core, clock.now, "week", heavy=False) == 0


async def test_only_the_lease_holder_ticks(team: Team, core: Core, clock: Clock) -> None:
    mail = Mail(core)
    clock.now = local(2026, 11, 23, 7, 31)
    first, second = leases.holder_id("a"), leases.holder_id("b")
    assert await jobs.tick(core, clock.now, first, heavy=False) is True
    assert len(mail.of(team.officer)) == 2
    assert await jobs.tick(core, clock.now + timedelta(minutes=1), second, heavy=False) is False
    clock.now += timedelta(minutes=10)  # the first process died: its lease expired
    assert await jobs.tick(core, clock.now, second, heavy=False) is True
    assert len(mail.of(team.officer)) == 2  # and still nothing twice


# ---- the XLSX behind the digest -----------------------------------------------------------------------------


async def test_the_report_button_sends_an_xlsx_with_the_digest_numbers(team: Team, core: Core, clock: Clock) -> None:
    await seed_week_47(core)
    mail = Mail(core)
    clock.now = local(2026, 11, 23, 7, 31)
    await jobs.digest(core, clock.now, "week", heavy=False)
    text, _ = mail.take(team.officer)
    data = press_on(text, "📥 Tải báo cáo XLSX")
    await team.volunteer.press_data(data)
    assert "dành cho" in team.volunteer.text  # officers only, checked on the press
    await team.officer.press_data(data)
    assert "chuẩn bị tệp báo cáo" in team.officer.text
    [file] = await core.run_tasks()
    attachment = await file_in(core, file.message)
    assert attachment.name == "BaoCao_CDS_NguyenLuongBang_Tuan47_2026.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.content), read_only=True).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["Thôn 1", 3, 2, 66.7, 1, 1] in rows and ["Cả xã", 5, 2, 40.0, 1, 1] in rows
    flat = " ".join(str(c) for row in rows for c in row)
    assert "Số liệu tính đến" in flat and "mẫu mặc định" in flat
    await team.officer.press_data("rx:w:2026-W49")  # a week that has not ended (forged)
    assert "không còn hợp lệ" in team.officer.text and await core.run_tasks() == []


# ---- volunteers' Saturday reminder, escalations ---------------------------------------------------------------


async def test_saturday_reminder_lists_priority_households_and_says_nothing_when_nothing_is_left(
    team: Team, core: Core, clock: Clock
) -> None:
    mail = Mail(core)
    idle = Person(core, "905")
    await idle.command(
        "join", await invite_code(core, role="volunteer", village_ids=[team.village_ids["Thôn 5"]], label="TNV Thôn 5")
    )
    mail.take(idle)  # the welcome
    clock.now = local(2026, 11, 28, 7, 59)
    assert await jobs.volunteer_reminders(core, clock.now) == 0
    clock.now = local(2026, 11, 28, 8, 1)
    assert await jobs.volunteer_reminders(core, clock.now) == 2
    reminder = mail.last(team.volunteer).text
    assert "còn 3 hộ chưa đạt" in reminder
    assert reminder.index("H002") < reminder.index("H001")  # the elderly household first
    assert mail.of(idle) == []  # no households in Thôn 5: nothing to say, nothing sent
    assert await jobs.volunteer_reminders(core, clock.now + timedelta(hours=3)) == 0  # once


async def test_help_requests_escalate_to_officers_once_each(team: Team, core: Core, clock: Clock) -> None:
    mail = Mail(core)
    clock.now = local(2026, 11, 24, 9, 0)
    await team.citizen.press_data("help")
    await team.citizen.press("Thôn 1")
    await team.citizen.press("🪪")
    await team.citizen.press("🌅 Buổi sáng")
    await team.citizen.press("💬 Chỉ nhắn qua đây")
    await team.citizen.press("✅ Gửi yêu cầu")
    clock.now += timedelta(hours=23, minutes=59)
    assert await jobs.escalations(core, clock.now) == 0
    clock.now += timedelta(minutes=2)
    assert await jobs.escalations(core, clock.now) == 1
    assert "24 giờ chưa có ai nhận" in mail.last(team.officer).text
    assert await jobs.escalations(core, clock.now + timedelta(hours=1)) == 0
    await team.volunteer.press_data("ha:1")
    clock.now += timedelta(hours=72)
    assert await jobs.escalations(core, clock.now) == 1
    assert "do Tình nguyện viên Nam nhận đã 72 giờ chưa xong" in mail.last(team.officer).text
    assert await jobs.escalations(core, clock.now + timedelta(days=1)) == 0


async def test_the_reports_menu_gives_last_week_month_or_everything_as_excel_or_pdf(
    team: Team, core: Core, clock: Clock
) -> None:
    await seed_week_47(core)
    clock.now = local(2026, 11, 23, 9, 0)
    officer = team.officer
    await officer.press_data("mg")
    await officer.press("📥 Báo cáo")
    assert "📄 Tuần 47 · PDF" in officer.labels and "📥 Tháng 10 · Excel" in officer.labels
    await officer.press("📄 Tuần 47 · PDF")
    [pdf] = await core.run_tasks()
    attachment = await file_in(core, pdf.message)
    assert attachment.name == "BaoCao_CDS_NguyenLuongBang_Tuan47_2026.pdf"
    assert attachment.content.startswith(b"%PDF-") and len(attachment.content) > 1000
    await officer.press_data("rp")
    await officer.press("📥 Lũy kế đến nay · Excel")
    [total] = await core.run_tasks()
    attachment = await file_in(core, total.message)
    assert attachment.name == "BaoCao_CDS_NguyenLuongBang_LuyKe_23-11-2026.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.content), read_only=True).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["Cả xã", 5, 3, 60.0, 0, 3] in rows  # H003 (reached Monday 00:01) counts by 09:00
    assert any("Báo cáo lũy kế đến 09:00 ngày 23/11/2026" in str(row[0]) for row in rows if row)
    notes = [str(row[0]) for row in rows if row]
    assert any(
        n.startswith("Mục tiêu: mọi hộ có người dùng được dịch vụ công (100 % trước 31/12/2026): 60,0 %") for n in notes
    )
    assert "Mục tiêu: hồ sơ trực tuyến toàn trình (80 %): chưa có số liệu một cửa của kỳ này." in notes
    assert "Mục tiêu: người trưởng thành dùng dịch vụ công (50 %): bot chưa đo được." in notes
    await officer.press_data("rx:t:2026-01-01T00:00:00")  # a forged cut-off
    assert "không còn hợp lệ" in officer.text and await core.run_tasks() == []


# ---- ⏰ reminders citizens ask for at a step that makes them wait --------------------------------------------


async def test_a_citizen_is_reminded_once_at_the_time_chosen_and_can_cancel(core: Core, clock: Clock) -> None:
    mail = Mail(core)
    citizen = Person(core, "777")
    clock.now = local(2026, 11, 24, 20, 0)  # Tuesday evening
    guide = core.services.content.guides["vneid-level2"]
    activate = next(i for i, step in enumerate(guide.steps, 1) if step.wait)
    await citizen.press_data(f"g:vneid-level2:{activate}")
    assert "⏰ Nhắc tôi" in citizen.labels
    await citizen.press("⏰ Nhắc tôi")
    await citizen.press("🌅 Sáng mai")
    assert "07:30 ngày 25/11" in citizen.text and "tài khoản mức 2 đã được duyệt" in citizen.text
    await citizen.command("mydata")
    assert "Lời nhắc lúc 07:30 25/11" in citizen.text
    assert await jobs.citizen_reminders(core, local(2026, 11, 25, 7, 29)) == 0  # `local` gives UTC, as the server
    assert await jobs.citizen_reminders(core, local(2026, 11, 25, 7, 31)) == 1
    reminder = mail.last(citizen)
    assert "tài khoản mức 2 đã được duyệt" in reminder.text
    assert (await data_on(core, reminder))[0] == f"g:vneid-level2:{activate}"
    assert await jobs.citizen_reminders(core, local(2026, 11, 26, 7, 31)) == 0  # once

    await citizen.press_data(f"g:vneid-level2:{activate}")
    await citizen.press("⏰ Nhắc tôi")
    await citizen.press("📅 Sau 3 ngày")
    await citizen.press("✖ Thôi, không nhắc")
    assert "Đã huỷ lời nhắc" in citizen.text
    assert await jobs.citizen_reminders(core, local(2026, 12, 1, 8, 0)) == 0
    await citizen.press_data("rm:vneid-level2:1")  # a step that makes nobody wait (forged)
    assert "⏰ Nhắc tôi" not in citizen.labels and "nút" in citizen.text.lower()


# ---- 🧾 one-stop figures the bot cannot know ---------------------------------------------------------------


async def test_one_stop_figures_entered_by_an_officer_appear_in_the_digest_labelled(
    team: Team, core: Core, clock: Clock, settings: Settings
) -> None:
    clock.now = local(2026, 11, 23, 9, 0)
    officer = team.officer
    await officer.press_data("mg")
    await officer.press("🧾 Nhập số liệu một cửa")
    await officer.press("Tuần 47")
    await officer.send("120 95 10")  # too few
    assert "cần đúng 7 số" in officer.text
    await officer.send("120 95 30 5 2 110 60")  # 95 + 30 > 120
    assert "lớn hơn tổng số hồ sơ" in officer.text
    await officer.send("120 95 10 5 2 130 60")
    assert "số thứ 6 (130) lớn hơn tổng số hồ sơ (120)" in officer.text
    await officer.send("120; 95; 10; 5; 2; 110; 60")
    assert "Trực tuyến toàn trình: 95 (79,2 %)" in officer.text
    await officer.press("💾 Lưu")
    assert "Đã lưu số liệu một cửa kỳ 2026-W47" in officer.text
    await team.volunteer.press_data("osp:2026-W47")  # not an officer
    assert "dành cho" in team.volunteer.text
    period = figures.week("2026-W47", TZ)
    made = await core.db.read(lambda conn: figures.compute(conn, commune="11242", period=period, target_date=None))
    text = render_text(made, core.services.content, TZ, settings.content_dir)
    assert "🧾 Một cửa (số liệu do Cán bộ Hoa nhập lúc 09:00 23/11): 120 hồ sơ" in text
    assert "trực tuyến toàn trình 95 (79,2 %) — mục tiêu 80 %: chưa đạt" in text
    earlier = await core.db.read(
        lambda conn: figures.compute(conn, commune="11242", period=figures.week("2026-W46", TZ), target_date=None)
    )
    assert "Chưa có số liệu một cửa" in render_text(earlier, core.services.content, TZ, settings.content_dir)
    async with core.db.transaction() as conn:  # the week before: 70 % fully online → +9.2 points a week
        await onestop.save(conn, "11242", "2026-W46", [100, 70, 10, 5, 2, 90, 40], 1, clock.now)
    made = await core.db.read(lambda conn: figures.compute(conn, commune="11242", period=period, target_date=None))
    text = render_text(made, core.services.content, TZ, settings.content_dir)
    assert "95 (79,2 %) (kỳ trước 70,0 %) — mục tiêu 80 %: chưa đạt (dự kiến đạt sau khoảng 1 tuần nữa)" in text


async def test_officers_get_a_printable_qr_poster_that_opens_the_guide(team: Team, core: Core) -> None:
    officer = team.officer
    await officer.press_data("qrg:pay-online")
    assert "chưa kết nối xong" in officer.text  # no running channel has told its name yet
    core.services.deep_links["telegram"] = lambda payload: f"https://t.me/dvc_demo_bot?start={payload}"
    await officer.press_data("mg")
    await officer.press("🔳 Mã QR hướng dẫn")
    title = core.services.content.guides["pay-online"].title
    await officer.press(title)
    [poster] = officer.last
    assert "https://t.me/dvc_demo_bot?start=guide-pay-online" in poster.text
    image_file = await file_in(core, poster)
    assert image_file.is_image
    image = Image.open(io.BytesIO(image_file.content))
    assert image.format == "PNG" and image.height > image.width >= 300  # the code, and the title under it
    await team.volunteer.press_data("qrg:pay-online")
    assert "dành cho" in team.volunteer.text
    [start] = await Person(core, "778").command("start", "guide-pay-online")  # what scanning it does
    assert title in start.text


@pytest.mark.telegram_only  # files are sent to the bot only on Telegram
async def test_one_stop_figures_can_be_imported_from_a_table_all_or_nothing(
    team: Team, core: Core, clock: Clock
) -> None:
    clock.now = local(2026, 12, 2, 9, 0)
    officer = team.officer
    header = (
        "Kỳ,Tổng số hồ sơ,Trực tuyến toàn trình,Trực tuyến một phần,Qua bưu chính,Quá hạn,Đã số hoá,"
        "Thanh toán trực tuyến\n"
    )
    bad = header + "2026-W47,100,80,10,5,1,90,50\nTuần 49/2026,50,40,5,1,0,45,20\n2026-11,abc,1,1,1,1,1,1\n"
    await officer.upload("mot-cua.csv", bad.encode())
    assert "chưa lưu gì" in officer.text and "kỳ «2026-W49»" in officer.text and "«abc» không phải số" in officer.text
    good = header + "2026-W47,100,80,10,5,1,90,50\nTháng 11/2026,400,330,40,10,3,380,200\n"
    await officer.upload("mot-cua.csv", good.encode())
    assert "Đã nhập số liệu một cửa cho 2 kỳ: 2026-W47, 2026-11" in officer.text
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT period, total, fully_online FROM onestop_figures ORDER BY period")
    assert [tuple(r) for r in rows] == [("2026-11", 400, 330), ("2026-W47", 100, 80)]
    await team.volunteer.upload("mot-cua.csv", good.encode())  # not an officer
    assert "chỉ nhận tệp danh sách hộ" in team.volunteer.text


def test_a_one_stop_table_is_read_strictly_and_a_roster_is_never_taken_for_one() -> None:
    from datetime import datetime as dt

    from bot.roster import _period_text, parse_onestop

    numbers = (
        "Tổng số hồ sơ,Trực tuyến toàn trình,Trực tuyến một phần,Qua bưu chính,Quá hạn,Đã số hoá,Thanh toán trực tuyến"
    )
    head = f"Kỳ,{numbers}\n"
    parsed = parse_onestop((head + "2026-11,1.5,1,1,1,1,1,1\n2026-10,1²,1,1,1,1,1,1\n").encode(), "x.csv")
    assert parsed is not None and len(parsed.faults) == 2 and "không phải số nguyên" in parsed.faults[0]
    parsed = parse_onestop((head + "2026-11,1.234,1,1,1,1,1,1\n").encode(), "x.csv")
    assert parsed is not None and parsed.rows == [(2, "2026-11", [1234, 1, 1, 1, 1, 1, 1])]
    shifted = f"{numbers},Kỳ\n"
    parsed = parse_onestop((shifted + "5,1,1,1,1,1,1\n").encode(), "x.csv")  # a short row: no crash
    assert parsed is not None and parsed.rows[0][1] == ""
    roster = "Mã hộ,Họ tên chủ hộ,Thôn,Kỳ,Tổng\nH1,Nguyễn Văn A,Thôn 1,1,2\n"
    assert parse_onestop(roster.encode(), "ds.csv") is None  # read as a household roster instead
    assert _period_text(dt(2026, 11, 1)) == "2026-11"  # Excel made a date of "11/2026"
