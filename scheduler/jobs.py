"""Jobs are plain async functions of (services they need, now): tested by calling them with a fixed time."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.store import Database, updates

log = logging.getLogger(__name__)


async def prune_processed_updates(db: Database, now: datetime) -> int:
    """Forget processed update ids older than a week (platforms never re-deliver that late)."""
    async with db.transaction() as conn:
        removed = await updates.prune(conn, now)
    log.info("pruned %d processed update ids", removed)
    return removed
