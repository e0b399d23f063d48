"""A commune with a team: an officer, two volunteers in different villages, and a small roster."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Core
from bot.roster import parse_roster
from bot.services.households import import_roster
from bot.store import invites, villages
from tests.people import Person

ROSTER_CSV = (
    "Mã hộ,Họ tên chủ hộ,Thôn,Địa chỉ,Số nhân khẩu,Ưu tiên\n"
    "H001,Nguyễn Văn An,Thôn 1,Xóm Đông,4,\n"
    "H002,Trần Thị Bình,Thôn 1,,3,Người cao tuổi\n"
    "H003,Lê Văn Cường,Thôn 1,,5,\n"
    "H101,Phạm Thị Dung,Thôn 2,,2,Hộ nghèo\n"
    "H102,Hoàng Văn Em,Thôn 2,,6,\n"
)


@dataclass
class Team:
    officer: Person
    volunteer: Person  # Thôn 1
    other_volunteer: Person  # Thôn 2
    citizen: Person
    village_ids: dict[str, int]


async def invite_code(core: Core, *, role: str, village_ids: list[int], label: str, commune: str = "11242") -> str:
    async with core.db.transaction() as conn:
        _, code = await invites.create(
            conn,
            commune=commune,
            role=role,
            label=label,
            village_ids=village_ids,
            created_by=None,
            now=core.services.clock(),
        )
    return code


async def import_csv(core: Core, officer: Person, csv: str, added: int = 5) -> None:
    """The officer's roster: sent as a file on Telegram; on Zalo (no documents) imported as the CLI does."""
    if not officer.numbered:
        await officer.upload("ds.csv", csv.encode())
        assert f"{added} hộ mới" in officer.text, officer.text
        return
    parsed = parse_roster(csv.encode(), "ds.csv")
    async with core.db.transaction() as conn:
        result = await import_roster(
            conn,
            parsed=parsed,
            commune="11242",
            data=csv.encode(),
            filename="ds.csv",
            actor="cli",
            now=core.services.clock(),
            create_villages=False,
        )
    assert result.added == added and not result.faults


async def build_team(core: Core) -> Team:
    async with core.db.transaction() as conn:
        ids = {v.name: v.id for v in await villages.for_commune(conn, "11242")}
    officer = Person(core, "900")
    await officer.command("join", await invite_code(core, role="officer", village_ids=[], label="Cán bộ Hoa"))
    assert "Chào mừng" in officer.text, officer.text
    volunteer = Person(core, "901")
    await volunteer.command(
        "join",
        await invite_code(core, role="volunteer", village_ids=[ids["Thôn 1"]], label="Tình nguyện viên Nam"),
    )
    other = Person(core, "902")
    await other.command(
        "join",
        await invite_code(core, role="volunteer", village_ids=[ids["Thôn 2"]], label="Tình nguyện viên Lan"),
    )
    await import_csv(core, officer, ROSTER_CSV)
    return Team(officer, volunteer, other, Person(core, "903"), ids)


async def ask_for_help(citizen: Person, village: str = "Thôn 1", *, phone: str | None = "0912 345 678") -> int:
    """The citizen's four steps and the confirmation; returns the request id."""
    await citizen.press_data("help")
    if f"{village}" in citizen.labels:
        await citizen.press(village)
    await citizen.press("🪪")  # the VNeID topic
    await citizen.press("🌅 Buổi sáng")
    if phone is None:
        await citizen.press("💬 Chỉ nhắn qua đây")
    else:
        await citizen.send(phone)
    await citizen.press("✅ Gửi yêu cầu")
    assert "Em đã gửi yêu cầu #" in citizen.text, citizen.text
    return int(citizen.text.split("#", 1)[1].split()[0])
