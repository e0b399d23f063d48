"""The demo's people: seeded once (a second seeding changes nothing), each able to do what their role
allows straight away, and the web chat's role buttons name the same chats."""

from __future__ import annotations

from pathlib import Path

from bot.app import Core
from bot.sandbox import people
from tests.people import Person


async def count(core: Core, sql: str) -> int:
    async with core.db.transaction() as conn:
        rows = await conn.execute_fetchall(sql)
    return int(rows[0][0])


async def test_the_demo_people_are_seeded_once_and_can_act_in_their_roles(core: Core) -> None:
    await people.seed(core)
    await people.seed(core)  # a restart of the demo
    assert await count(core, "SELECT count(*) FROM members") == 2
    assert await count(core, "SELECT count(*) FROM households WHERE code LIKE 'MAU-%'") == len(people.SAMPLE)
    assert await count(core, "SELECT count(*) FROM visits") == len(people.VISITS)
    officer = Person(core, people.OFFICER.chat_id)
    await officer.press_data("pg")
    assert "Thôn 1: 1/6 hộ đạt" in officer.text and "Thôn 2: 1/3 hộ đạt" in officer.text
    volunteer = Person(core, people.VOLUNTEER.chat_id)
    await volunteer.press_data("td:1")
    assert "MAU-002" in volunteer.text and "(mẫu)" in volunteer.text  # the sample says it is a sample
    citizen = Person(core, people.CITIZEN.chat_id)
    await citizen.press_data("pg")
    assert "dành cho" in citizen.text
    officer_on_zalo = Person(core, people.OFFICER.chat_id, channel="zalo")  # the page's Zalo side
    await officer_on_zalo.command("menu")
    assert "🛠 Quản lý (cán bộ xã)" in officer_on_zalo.labels and "Trả lời bằng số" in officer_on_zalo.text


def test_the_web_chat_offers_each_demo_person() -> None:
    page = (Path(people.__file__).parent / "webchat.html").read_text(encoding="utf-8")
    for identity in people.IDENTITIES:
        assert f'data-chat="{identity.chat_id}">{identity.label}<' in page
    assert 'data-chat="new"' in page
    assert 'data-channel="telegram"' in page and 'data-channel="zalo"' in page


async def test_a_second_communes_menus_and_files_carry_its_own_name(core: Core) -> None:
    from tests.team_fixtures import invite_code

    officer = Person(core, "880")
    await officer.command(
        "join", await invite_code(core, role="officer", village_ids=[], label="Cán bộ", commune="11245")
    )
    own = core.services.commune_name("11245")
    assert own != core.services.content.commune.name and own in officer.text
    await officer.press_data("mg")
    assert own in officer.text and core.services.content.commune.name not in officer.text
    await officer.press_data("ex")
    [file] = await core.run_tasks()
    assert own in file.message.text
