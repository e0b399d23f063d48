"""Storage: one small data layer over SQLite (aiosqlite), one module per stored aggregate.

`Database` owns the connection; every unit of work runs in `async with db.transaction() as conn:`,
so what a person saw acknowledged has been committed first (DESIGN.md §5).
"""

from __future__ import annotations

from bot.store.database import Conn, Database, DatabaseUrlError, sqlite_path_from_url

__all__ = ["Conn", "Database", "DatabaseUrlError", "sqlite_path_from_url"]
