"""Jobs are plain async functions of (services they need, now): tested by calling them with a fixed time."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.store import Database, help_requests, inbox, outbox

log = logging.getLogger(__name__)


async def prune_message_log(db: Database, now: datetime) -> tuple[int, int]:
    """Forget processed inbox rows after a week and finished outbox rows after 35 days (keys only)."""
    async with db.transaction() as conn:
        received = await inbox.prune(conn, now)
        sent = await outbox.prune(conn, now)
    log.info("pruned %d inbox and %d outbox rows", received, sent)
    return received, sent


async def delete_old_phone_numbers(db: Database, now: datetime) -> int:
    """Phone numbers left with help requests are deleted 90 days after the request closed."""
    async with db.transaction() as conn:
        deleted = await help_requests.delete_old_phones(conn, now)
    log.info("deleted %d phone numbers of closed help requests", deleted)
    return deleted
