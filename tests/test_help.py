"""Help requests end to end on the engine (real SQLite, every message through the outbox): a citizen asks,
the village's volunteers are told, the first ✋ wins, messages go both ways, done → rating; routing to
officers, cancellation at each stage, forged buttons, phone numbers, /mydata and /deleteme, 🔔."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import Core
from bot.phone import normalise_phone
from bot.store import help_requests, ratings, subscriptions
from scheduler import jobs
from tests.conftest import Clock
from tests.people import Mail, Person, labels_of, press_on
from tests.team_fixtures import Team, ask_for_help, build_team, invite_code

pytestmark = pytest.mark.usefixtures("messenger")  # every scenario on Telegram and on Zalo


@pytest.fixture
async def team(core: Core) -> Team:
    return await build_team(core)


@pytest.fixture
async def second_volunteer(core: Core, team: Team) -> Person:
    """Another volunteer of Thôn 1, so two can race for the same request."""
    person = Person(core, "904")
    await person.command(
        "join",
        await invite_code(
            core, role="volunteer", village_ids=[team.village_ids["Thôn 1"]], label="Tình nguyện viên Hà"
        ),
    )
    return person


async def test_the_whole_request_two_volunteers_and_a_citizen(core: Core, team: Team, second_volunteer: Person) -> None:
    mail = Mail(core)
    citizen = team.citizen
    await citizen.press_data("help")
    assert "bước 1/4" in citizen.text and "Thôn 1" in citizen.labels
    await citizen.press("Thôn 1")
    assert "bước 2/4" in citizen.text and "✏️ Việc khác (gõ vài chữ)" in citizen.labels
    await citizen.press("✏️ Việc khác")
    await citizen.send("cài VNeID cho mẹ tôi 80 tuổi")
    assert "bước 3/4" in citizen.text
    await citizen.press("🌙 Buổi tối")
    assert "bước 4/4" in citizen.text and "mật khẩu" in citizen.text  # the never-give-your-password warning
    # Telegram has a "send my number" button; on Zalo the number is typed
    assert citizen.numbered or any(m.ask_contact == "📱 Gửi số điện thoại của tôi" for m in citizen.last)
    await citizen.send("0123")  # not a mobile number
    assert "chưa đúng số di động" in citizen.text
    await citizen.send("+84 912.345.678")
    assert "0912 345 678" in citizen.text and any(m.close_keyboard for m in citizen.last)
    await citizen.press("☐ 👵")
    assert "Cần hỗ trợ tại nhà" in citizen.text
    await citizen.press("✅ Gửi yêu cầu")
    assert "Tổ công nghệ số Thôn 1" in citizen.text
    request_id = int(citizen.text.split("#", 1)[1].split()[0])
    await citizen.press_data("hok")  # a second tap on ✅ Gửi yêu cầu sends nothing twice
    assert f"#{request_id} đã được gửi rồi" in citizen.text
    async with core.db.transaction() as conn:
        assert len(await help_requests.of_citizen(conn, citizen.recipient)) == 1

    # both Thôn 1 volunteers are asked, without the phone number; Thôn 2's volunteer is not
    offers = [mail.last(team.volunteer), mail.last(second_volunteer)]
    for offer in offers:
        assert f"#{request_id}" in offer.text and "cài VNeID cho mẹ" in offer.text and "tại nhà" in offer.text
        assert "0912" not in offer.text and labels_of(offer)[0] == "✋ Nhận giúp"
    assert not [m for m in mail.of(team.other_volunteer) if f"#{request_id}" in m.text]

    # the accept race: both press ✋ at the same moment, exactly one wins
    results = await asyncio.gather(
        team.volunteer.press_data(f"ha:{request_id}"), second_volunteer.press_data(f"ha:{request_id}")
    )
    won = [r for r in results if "Anh/chị đã nhận" in r[0].text]
    lost = [r for r in results if "đã có người khác nhận" in r[0].text]
    assert len(won) == 1 and len(lost) == 1
    winner = team.volunteer if results[0] is won[0] else second_volunteer
    name = "Tình nguyện viên Nam" if winner is team.volunteer else "Tình nguyện viên Hà"
    assert "0912 345 678" in won[0][0].text  # the one who took it sees the number
    told = [m for m in mail.of(citizen) if "sẽ giúp anh/chị" in m.text]
    assert len(told) == 1 and name in told[0].text and "mật khẩu" in told[0].text

    # messages both ways
    await winner.press("💬 Nhắn người dân")
    await winner.send("Tối nay 7 giờ em qua nhà ạ")
    note = mail.last(citizen)
    assert "Tối nay 7 giờ em qua nhà ạ" in note.text and name in note.text
    await citizen.press_data(press_on(note, "💬 Trả lời"))
    await citizen.send("Dạ vâng, cảm ơn")
    assert "Dạ vâng, cảm ơn" in mail.last(winner).text

    # done → the volunteer goes on to log the visit; the citizen rates 1–5 ★ and may comment
    await winner.press_data(f"hd:{request_id}")
    assert "📝 Ghi nhận hộ vừa hướng dẫn" in winner.labels
    await winner.press("📝 Ghi nhận hộ vừa hướng dẫn")
    assert winner.last and "🏠 Menu" in winner.labels
    ask = mail.last(citizen)
    assert name in ask.text and labels_of(ask)[-1] == "5 ⭐"
    await citizen.press_data(press_on(ask, "5 ⭐"))
    assert "5★" in citizen.text
    await citizen.send("Cháu hướng dẫn rất nhiệt tình")
    assert "ghi nhận góp ý" in citizen.text
    async with core.db.transaction() as conn:
        assert await ratings.help_satisfaction(conn, "11242") == (1, 5.0, 1.0)
        stored = await ratings.for_subject(conn, "help", str(request_id))
    assert stored[0].comment == "Cháu hướng dẫn rất nhiệt tình"

    await citizen.command("requests")
    assert f"#{request_id}" in citizen.text and "đã xong" in citizen.text


async def test_a_village_without_volunteers_goes_to_the_officers(core: Core, team: Team) -> None:
    mail = Mail(core)
    request_id = await ask_for_help(team.citizen, "Thôn 3")
    assert "cán bộ xã" in team.citizen.text
    offer = mail.last(team.officer)
    assert f"#{request_id}" in offer.text and "0912 345 678" in offer.text  # officers see the number
    await team.officer.press_data(f"ha:{request_id}")
    assert "Anh/chị đã nhận" in team.officer.text
    assert "Cán bộ Hoa" in mail.last(team.citizen).text


async def test_the_village_is_remembered_and_can_be_changed(core: Core, team: Team) -> None:
    await ask_for_help(team.citizen, "Thôn 2")
    await team.citizen.press_data("help")
    assert "bước 2/4 (Thôn 2)" in team.citizen.text
    await team.citizen.press("🏘 Đổi thôn")
    assert "bước 1/4" in team.citizen.text


async def test_the_guide_being_read_is_preselected(core: Core, team: Team) -> None:
    citizen = team.citizen
    await citizen.command("start", "guide-pay-online")
    await citizen.press("🙋 Cần người giúp")
    await citizen.press("Thôn 1")
    title = core.services.content.guides["pay-online"].title
    assert citizen.labels[0] == f"✓ {title}"[:60]


async def test_cancelling_at_each_stage(core: Core, team: Team) -> None:
    mail = Mail(core)
    citizen, volunteer = team.citizen, team.volunteer
    # before sending: nothing is stored, nobody told
    await citizen.press_data("help")
    await citizen.press("Thôn 1")
    await citizen.press("🪪")
    await citizen.press("🌅 Buổi sáng")
    await citizen.press("💬 Chỉ nhắn qua đây")
    await citizen.press("✖️ Thôi, không gửi")
    assert "chưa gửi gì" in citizen.text
    async with core.db.transaction() as conn:
        assert await help_requests.of_citizen(conn, citizen.recipient) == []
    await citizen.press_data("hok")  # the old ✅ after cancelling
    assert "làm lại" in citizen.text

    # open: cancelled, and a late ✋ is told it is closed
    first = await ask_for_help(citizen)
    await citizen.press_data(f"hc:{first}")
    await citizen.press("✖️ Có, hủy yêu cầu")
    assert "đã hủy yêu cầu" in citizen.text
    await volunteer.press_data(f"ha:{first}")
    assert "đã hủy" in volunteer.text

    # taken: the volunteer is told not to come
    second = await ask_for_help(citizen)
    await volunteer.press_data(f"ha:{second}")
    await citizen.press_data(f"hc:{second}")
    await citizen.press("✖️ Có, hủy yêu cầu")
    assert "không cần đến nữa" in mail.last(volunteer).text

    # done: cannot be cancelled any more
    third = await ask_for_help(citizen)
    await volunteer.press_data(f"ha:{third}")
    await volunteer.press_data(f"hd:{third}")
    await citizen.press_data(f"hc:{third}")
    assert "đã xong" in citizen.text
    await citizen.press_data(f"hcy:{third}")
    assert "đã xong" in citizen.text


async def test_hand_back_reopens_for_the_others(core: Core, team: Team, second_volunteer: Person) -> None:
    mail = Mail(core)
    request_id = await ask_for_help(team.citizen)
    await team.volunteer.press_data(f"ha:{request_id}")
    mail.take(second_volunteer)
    await team.volunteer.press_data(f"hb:{request_id}")
    assert "đã trả yêu cầu" in team.volunteer.text
    again = mail.of(second_volunteer)
    assert again and labels_of(again[-1])[0] == "✋ Nhận giúp"
    assert "đang tìm người khác" in mail.last(team.citizen).text
    await second_volunteer.press_data(f"ha:{request_id}")
    assert "Anh/chị đã nhận" in second_volunteer.text


async def test_forged_and_stale_help_buttons_change_nothing(core: Core, team: Team) -> None:
    citizen = team.citizen
    request_id = await ask_for_help(citizen)
    await team.other_volunteer.press_data(f"ha:{request_id}")  # a volunteer of Thôn 2
    assert "thôn khác" in team.other_volunteer.text
    stranger = Person(core, "977")
    await stranger.press_data(f"ha:{request_id}")  # a citizen forging ✋
    assert "dành cho thành viên Tổ" in stranger.text
    await stranger.press_data(f"hcy:{request_id}")  # someone else's request
    assert "không tìm thấy" in stranger.text
    await stranger.press_data(f"hr:{request_id}:5")
    await team.volunteer.press_data(f"hd:{request_id}")  # not taken yet: nothing to finish
    assert "không thao tác" in team.volunteer.text
    for junk in ("ha:abc", "ha:99999999999", "hr:1:9", "hn:x", "hw:midnight"):
        await citizen.press_data(junk)
        assert "🏠 Menu" in citizen.labels or "📘 Hướng dẫn theo chủ đề" in citizen.labels
    async with core.db.transaction() as conn:
        request = await help_requests.get(conn, "11242", request_id)
        assert request is not None and request.status == "open"
        assert await ratings.for_subject(conn, "help", str(request_id)) == []


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912 345 678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("84-912-345-678", "0912345678"),
        ("(+84) 0912.345.678", "0912345678"),
        ("0386 123 456", "0386123456"),
        ("０９１２３４５６７８", "0912345678"),
        ("024 3825 1234", None),  # a landline
        ("0123 456 789", None),  # an old prefix no longer in use
        ("0912", None),
        ("số của tôi là", None),
        ("1" * 40, None),
    ],
)
def test_phone_numbers_in_every_common_form(typed: str, stored: str | None) -> None:
    assert normalise_phone(typed) == stored


async def test_a_shared_contact_is_taken_only_when_asked(core: Core, team: Team) -> None:
    citizen = team.citizen
    await citizen._handle("contact", text="+84 987 654 321")  # out of the blue
    assert "không lưu" in citizen.text
    await citizen.press_data("help")
    await citizen.press("Thôn 1")
    await citizen.press("🪪")
    await citizen.press("🕐 Lúc nào cũng được")
    await citizen._handle("contact", text="+84 987 654 321")
    assert "0987 654 321" in citizen.text and "✅ Gửi yêu cầu" in citizen.labels


async def test_bad_texts_keep_the_draft(core: Core, team: Team) -> None:
    citizen = team.citizen
    await citizen.press_data("help")
    await citizen.press("Thôn 1")
    await citizen.press("✏️ Việc khác")
    await citizen.send("x" * 500)
    assert "từ 3 đến 200" in citizen.text
    await citizen.send("số căn cước của tôi là 001234567890")
    assert "đừng gửi" in citizen.text
    await citizen.send("cài VNeID")
    assert "bước 3/4" in citizen.text


async def test_a_blocked_citizen_the_volunteer_is_told(core: Core, team: Team) -> None:
    """The message to the citizen carries what to tell the volunteer if it cannot be delivered (the
    sender uses it on a 403; tests/test_message_path.py runs that path through the emulator)."""
    mail = Mail(core)
    request_id = await ask_for_help(team.citizen)
    await team.volunteer.press_data(f"ha:{request_id}")
    told = mail.last(team.citizen)
    assert told.undeliverable is not None and told.undeliverable.to == team.volunteer.recipient
    assert "0912 345 678" in told.undeliverable.text


async def test_my_data_and_delete_me(core: Core, team: Team) -> None:
    mail = Mail(core)
    citizen = team.citizen
    await citizen.press_data("xhs:bac")
    request_id = await ask_for_help(citizen)
    await team.volunteer.press_data(f"ha:{request_id}")
    await citizen.press_data("ans:all")
    await citizen.command("mydata")
    text = citizen.text
    assert "bác" in text and "Thôn 1" in text and f"#{request_id}" in text and "0912 345 678" in text
    assert "cả xã" in text
    await citizen.command("deleteme")
    await citizen.press("🗑 Có, xóa hết")
    assert "đã xóa" in citizen.text
    assert "không cần đến nữa" in mail.last(team.volunteer).text  # the open request was withdrawn
    await citizen.command("mydata")
    assert "không lưu gì" in citizen.text
    await citizen.command("start")
    assert "anh/chị" in citizen.text.lower()  # even the form of address is forgotten
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall("SELECT channel, chat_id, phone, detail, status FROM help_requests")
        assert [tuple(r) for r in rows] == [(None, None, None, None, "cancelled")]  # counted, anonymous
        assert await subscriptions.get(conn, citizen.recipient) is None
        actors = await conn.execute_fetchall("SELECT actor FROM audit_log WHERE actor LIKE 'telegram:903%'")
        assert list(actors) == []


async def test_members_cannot_delete_themselves_here(core: Core, team: Team) -> None:
    await team.volunteer.command("deleteme")
    assert "cán bộ xã" in team.volunteer.text


async def test_phone_numbers_are_deleted_90_days_after_closing(core: Core, team: Team, clock: Clock) -> None:
    done = await ask_for_help(team.citizen)
    still_open = await ask_for_help(team.citizen)
    await team.volunteer.press_data(f"ha:{done}")
    await team.volunteer.press_data(f"hd:{done}")
    clock.advance(days=89)
    assert await jobs.delete_old_phone_numbers(core.db, clock()) == 0
    clock.advance(days=1, minutes=1)
    assert await jobs.delete_old_phone_numbers(core.db, clock()) == 1
    async with core.db.transaction() as conn:
        closed = await help_requests.get(conn, "11242", done)
        waiting = await help_requests.get(conn, "11242", still_open)
    assert closed is not None and closed.phone is None and closed.status == "done"
    assert waiting is not None and waiting.phone == "0912345678"


async def test_announcements_opt_in_for_the_commune_or_a_village(core: Core, team: Team) -> None:
    citizen, other = team.citizen, Person(core, "960")
    await citizen.press_data("an")
    assert "chưa nhận thông báo" in citizen.text
    await citizen.press("🏘 Chỉ thông báo cho")
    await citizen.press("Thôn 2")
    assert "Đã lưu" in citizen.text
    await other.press_data("an")
    await other.press("🔔 Nhận mọi thông báo")
    village_2 = team.village_ids["Thôn 2"]
    async with core.db.transaction() as conn:
        assert set(await subscriptions.audience(conn, "11242", village_2)) == {citizen.recipient, other.recipient}
        assert await subscriptions.audience(conn, "11242", team.village_ids["Thôn 1"]) == [other.recipient]
    await citizen.press_data("an")
    assert "Thôn 2" in citizen.text
    await citizen.press("🔕 Thôi nhận")
    async with core.db.transaction() as conn:
        assert await subscriptions.get(conn, citizen.recipient) is None
    await citizen.press_data("ans:999999")  # a forged village
    async with core.db.transaction() as conn:
        assert await subscriptions.get(conn, citizen.recipient) is None
