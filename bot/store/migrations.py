"""Numbered migrations, applied in order at start-up and recorded in `schema_migrations`.

Append new ones at the end; never edit one that has shipped.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "citizen guides foundation",
        """
        CREATE TABLE processed_updates (
            channel TEXT NOT NULL,
            update_id TEXT NOT NULL,
            processed_at TEXT NOT NULL,
            PRIMARY KEY (channel, update_id)
        ) WITHOUT ROWID;
        CREATE INDEX processed_updates_at ON processed_updates (processed_at);

        CREATE TABLE sessions (
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (channel, chat_id)
        ) WITHOUT ROWID;

        CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            subject_kind TEXT NOT NULL CHECK (subject_kind IN ('guide', 'help')),
            subject_id TEXT NOT NULL,
            person TEXT NOT NULL,
            stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
            comment TEXT CHECK (comment IS NULL OR length(comment) <= 500),
            created_at TEXT NOT NULL,
            UNIQUE (subject_kind, subject_id, person)
        );

        CREATE TABLE guide_views (
            id INTEGER PRIMARY KEY,
            guide_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            source TEXT NOT NULL,
            viewed_at TEXT NOT NULL
        );
        CREATE INDEX guide_views_at ON guide_views (viewed_at);
        """,
    ),
]


async def apply_migrations(conn: aiosqlite.Connection) -> list[int]:
    """Apply every migration not yet recorded; return the numbers applied."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with conn.execute("SELECT version FROM schema_migrations") as cursor:
        done = {row[0] for row in await cursor.fetchall()}
    applied: list[int] = []
    for version, name, sql in MIGRATIONS:
        if version in done:
            continue
        for statement in (s.strip() for s in sql.split(";")):
            if statement:
                await conn.execute(statement)
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (version, name, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        applied.append(version)
    return applied
