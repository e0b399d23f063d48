"""The demo's people: a citizen, a volunteer of Thôn 1 and a commune officer, each a stable chat, with a
small sample roster and a few visits so that progress, to-do lists, reports and digests show something.
The volunteer and the officer are the same members on the page's Zalo side (linked chats).

Seeding is idempotent (fixed chat ids, fixed sample codes, visits keyed) and the sample is marked as such:
household codes start with "MAU-" and names end with "(mẫu)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.app import Core
from bot.coverage import REACHED, Skill
from bot.messages import Recipient
from bot.services.coverage import refresh_household
from bot.store import households, identities, members, villages, visits
from bot.store.households import NewHousehold


@dataclass(frozen=True, slots=True)
class Identity:
    chat_id: str
    label: str  # what the web chat's switcher shows


CITIZEN = Identity("700000001", "👤 Người dân")
VOLUNTEER = Identity("700000002", "🙋 Thành viên Tổ (Thôn 1)")
OFFICER = Identity("700000003", "🏛 Cán bộ xã")
IDENTITIES = (CITIZEN, VOLUNTEER, OFFICER)

SAMPLE = (  # code, head, village index, hamlet, priorities
    ("MAU-001", "Nguyễn Văn An (mẫu)", 0, "Xóm Đông", ()),
    ("MAU-002", "Trần Thị Bình (mẫu)", 0, "Xóm Đông", ("elderly",)),
    ("MAU-003", "Lê Văn Cường (mẫu)", 0, "Xóm Tây", ()),
    ("MAU-004", "Phạm Thị Dung (mẫu)", 0, "Xóm Tây", ("poor",)),
    ("MAU-005", "Hoàng Văn Em (mẫu)", 0, "Xóm Bắc", ("disabled",)),
    ("MAU-006", "Nguyễn Văn An (mẫu)", 0, "Xóm Bắc", ()),
    ("MAU-101", "Vũ Thị Giang (mẫu)", 1, "Xóm Giữa", ()),
    ("MAU-102", "Đặng Văn Hải (mẫu)", 1, "Xóm Giữa", ("elderly",)),
    ("MAU-103", "Bùi Thị Hoa (mẫu)", 1, "Xóm Ngoài", ()),
    ("MAU-201", "Đỗ Văn Khánh (mẫu)", 2, "Xóm Trại", ()),
)
VISITS = (  # code, skills, days ago
    ("MAU-001", int(REACHED), 9),
    ("MAU-002", int(Skill.VNEID_INSTALLED | Skill.LEVEL2_ACTIVE), 3),
    ("MAU-101", int(REACHED | Skill.ONLINE_PAYMENT), 1),
)


async def seed(core: Core) -> None:
    """Put the demo's people and sample data in place (again: nothing changes)."""
    commune = core.services.content.commune.code
    now = core.services.clock()
    async with core.db.transaction() as conn:
        village_list = await villages.for_commune(conn, commune)
        if len(village_list) < 3:
            return  # a commune without its villages in the settings: only the citizen is playable
        officer = await members.get(conn, "telegram", OFFICER.chat_id)
        if officer is None:
            officer = await members.join(
                conn, channel="telegram", chat_id=OFFICER.chat_id, commune=commune, role="officer",
                label="Cán bộ xã (mẫu)", village_ids=[], now=now,
            )  # fmt: skip
        volunteer = await members.get(conn, "telegram", VOLUNTEER.chat_id)
        if volunteer is None:
            volunteer = await members.join(
                conn, channel="telegram", chat_id=VOLUNTEER.chat_id, commune=commune, role="volunteer",
                label="Thành viên Tổ Thôn 1 (mẫu)", village_ids=[village_list[0].id], now=now,
            )  # fmt: skip
        for member in (officer, volunteer):  # the same people on the page's Zalo side
            await identities.add(conn, member.id, Recipient("zalo", member.chat_id), now)
        rows = [
            NewHousehold(code, head, village_list[v].id, hamlet, 3, frozenset(prios))
            for code, head, v, hamlet, prios in SAMPLE
        ]
        await households.upsert_many(conn, commune, rows, now)
        for code, skills, days in VISITS:
            [household] = await households.search(conn, [v.id for v in village_list], code, limit=1)
            when = now - timedelta(days=days)
            _, created = await visits.record(
                conn, request_key=f"demo:{code}", household_id=household.id, member_id=volunteer.id,
                skills=skills, person=None, person_key="", note=None, now=when,
            )  # fmt: skip
            if created:
                await refresh_household(conn, household.id, when)
