"""Conversations. One module per feature, each with its own `Router`; `build_router` joins them."""

from __future__ import annotations

from bot.flows import (
    announce,
    guides,
    help,
    link,
    menu,
    mydata,
    newhousehold,
    onestop,
    progress,
    qr,
    remind,
    reports,
    roster,
    search,
    settings,
    team,
    visits,
)
from bot.flows.base import Answer, Router, Services, Turn

__all__ = ["Answer", "Router", "Services", "Turn", "build_router"]


def build_router() -> Router:
    root = Router()
    for module_router in (
        menu.router,
        guides.router,
        search.router,
        team.router,
        visits.router,
        newhousehold.router,
        progress.router,
        roster.router,
        settings.router,
        help.router,
        mydata.router,
        reports.router,
        announce.router,
        remind.router,
        onestop.router,
        qr.router,
        link.router,
    ):
        root.include(module_router)
    return root
