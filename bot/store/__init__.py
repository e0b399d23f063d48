"""Storage: one small data layer over SQLite, one module per stored aggregate.

`Database` owns the connection; every unit of work runs in `async with db.transaction() as conn:`, so
an update is in the inbox before it is acknowledged, and a turn's change and its messages (the outbox)
commit together (DESIGN.md §3, §5). Heavy reads use `db.read(fn)`: a read-only snapshot in a thread.
"""

from __future__ import annotations

from bot.store.database import Conn, Database, DatabaseUrlError, sqlite_path_from_url

__all__ = ["Conn", "Database", "DatabaseUrlError", "sqlite_path_from_url"]
