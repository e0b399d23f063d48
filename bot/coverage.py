"""The one rule of the target: when does a household count as reached?

The commune plans ask that every household has at least one person who can use a VNeID account,
log in to the public-service portal and use an online service. So a household is reached when
**one person** — over one visit or several — has all of: level-2 VNeID account active, logs in to
DVC, used an online service (filed or looked up an application). Visits are grouped by the trained
person's name (folded); visits that name nobody are taken as the same, unnamed, person.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntFlag


class Skill(IntFlag):
    VNEID_INSTALLED = 1
    LEVEL2_ACTIVE = 2
    DVC_LOGIN = 4
    ONLINE_SERVICE = 8
    ONLINE_PAYMENT = 16


ALL_SKILLS = (
    Skill.VNEID_INSTALLED,
    Skill.LEVEL2_ACTIVE,
    Skill.DVC_LOGIN,
    Skill.ONLINE_SERVICE,
    Skill.ONLINE_PAYMENT,
)
REACHED = Skill.LEVEL2_ACTIVE | Skill.DVC_LOGIN | Skill.ONLINE_SERVICE
SKILL_LABELS = {
    Skill.VNEID_INSTALLED: "Đã cài VNeID",
    Skill.LEVEL2_ACTIVE: "Tài khoản mức 2 đã kích hoạt",
    Skill.DVC_LOGIN: "Đăng nhập được Cổng DVC",
    Skill.ONLINE_SERVICE: "Đã nộp hoặc tra cứu hồ sơ trực tuyến",
    Skill.ONLINE_PAYMENT: "Đã thanh toán trực tuyến",
}
SKILL_SHORT = {
    Skill.VNEID_INSTALLED: "cài VNeID",
    Skill.LEVEL2_ACTIVE: "mức 2",
    Skill.DVC_LOGIN: "đăng nhập DVC",
    Skill.ONLINE_SERVICE: "nộp/tra cứu hồ sơ",
    Skill.ONLINE_PAYMENT: "thanh toán",
}


def skills_by_person(visits: Iterable[tuple[str, int]]) -> dict[str, Skill]:
    """What each trained person (by folded name; "" = unnamed) can do, over all their visits."""
    people: dict[str, Skill] = {}
    for person_key, skills in visits:
        people[person_key] = people.get(person_key, Skill(0)) | Skill(skills)
    return people


def is_reached(visits: Iterable[tuple[str, int]]) -> bool:
    """True when one person has every skill of the target (see the module docstring)."""
    return any(skills & REACHED == REACHED for skills in skills_by_person(visits).values())


def describe(skills: int) -> str:
    """Short Vietnamese list of skills, e.g. "mức 2, đăng nhập DVC"."""
    return ", ".join(SKILL_SHORT[s] for s in ALL_SKILLS if skills & s) or "chưa có"


# The rule in words, made from REACHED so that what volunteers read cannot drift from what is counted.
RULE = f"Hộ được tính là đạt khi cùng một người làm được: {describe(REACHED)}."


def missing_after(visits: Iterable[tuple[str, int]], person_key: str, skills: int) -> tuple[bool, Skill]:
    """(reached before, what the target still lacks) once `person_key` is credited with `skills`.

    Nothing lacks (Skill(0)) when the household is reached afterwards; otherwise it is what this
    person still has to learn, since the rule wants one person with every skill.
    """
    earlier = list(visits)
    before = is_reached(earlier)
    people = skills_by_person([*earlier, (person_key, skills)])
    if any(s & REACHED == REACHED for s in people.values()):
        return before, Skill(0)
    return before, REACHED & ~people[person_key]
