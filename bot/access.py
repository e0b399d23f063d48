"""Roles and what each may do: the one table every action and button press is checked against.

The check runs on the server for every step (button data can be forged), and data is always looked
up within the acting member's commune and, for volunteers, their own villages.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    VOLUNTEER = "volunteer"
    OFFICER = "officer"
    ADMIN = "admin"


_TEAM = frozenset({Role.VOLUNTEER, Role.OFFICER})
_MANAGERS = frozenset({Role.OFFICER, Role.ADMIN})

PERMISSIONS: dict[str, frozenset[Role]] = {
    "visit.log": _TEAM,
    "help.take": _TEAM,
    "household.add": _TEAM,
    "progress.view": _TEAM | _MANAGERS,
    "todo.view": _TEAM,
    "team.view": _MANAGERS,
    "team.manage": _MANAGERS,
    "invite.create": _MANAGERS,
    "invite.revoke": _MANAGERS,
    "roster.import": _MANAGERS,
    "roster.export": _MANAGERS,
    "village.add": _MANAGERS,
    "announce.send": _MANAGERS,
    "identity.link": _TEAM | _MANAGERS,
}

ROLE_NAMES = {
    Role.CITIZEN: "người dân",
    Role.VOLUNTEER: "thành viên Tổ công nghệ số",
    Role.OFFICER: "cán bộ xã",
    Role.ADMIN: "quản trị",
}


def allowed(role: Role, action: str) -> bool:
    """Unknown actions are refused: a typo must not open a door."""
    return role in PERMISSIONS.get(action, frozenset())
