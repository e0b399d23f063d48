"""Numbered migrations, applied in order at start-up and recorded in `schema_migrations`.

Append new ones at the end; never edit one that has shipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.database import Conn

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
    (
        2,
        "community digital team: villages, members, invites, households, visits, audit log",
        """
        CREATE TABLE villages (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            code TEXT NOT NULL,
            name TEXT NOT NULL,
            folded TEXT NOT NULL,
            UNIQUE (commune, code)
        );
        CREATE INDEX villages_folded ON villages (commune, folded);

        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            commune TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('volunteer', 'officer', 'admin')),
            label TEXT NOT NULL CHECK (length(label) <= 60),
            active INTEGER NOT NULL DEFAULT 1,
            joined_at TEXT NOT NULL,
            deactivated_at TEXT,
            UNIQUE (channel, chat_id)
        );
        CREATE INDEX members_commune ON members (commune, role);

        CREATE TABLE member_villages (
            member_id INTEGER NOT NULL REFERENCES members (id),
            village_id INTEGER NOT NULL REFERENCES villages (id),
            PRIMARY KEY (member_id, village_id)
        ) WITHOUT ROWID;
        CREATE INDEX member_villages_village ON member_villages (village_id);

        CREATE TABLE invites (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('volunteer', 'officer', 'admin')),
            label TEXT NOT NULL CHECK (length(label) <= 60),
            village_ids TEXT NOT NULL DEFAULT '[]',
            code_hash TEXT NOT NULL UNIQUE,
            created_by INTEGER REFERENCES members (id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            used_by INTEGER REFERENCES members (id),
            revoked_at TEXT
        );
        CREATE INDEX invites_commune ON invites (commune, used_at, revoked_at);

        CREATE TABLE join_failures (
            person TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX join_failures_person ON join_failures (person, at);

        CREATE TABLE households (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            code TEXT NOT NULL,
            code_key TEXT NOT NULL,
            head_name TEXT NOT NULL,
            head_folded TEXT NOT NULL,
            village_id INTEGER NOT NULL REFERENCES villages (id),
            address TEXT,
            members INTEGER,
            priorities TEXT NOT NULL DEFAULT '',
            priority_rank INTEGER NOT NULL DEFAULT 0,
            added_in_field INTEGER NOT NULL DEFAULT 0,
            added_by INTEGER REFERENCES members (id),
            reached_at TEXT,
            last_visit_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (commune, code_key)
        );
        CREATE INDEX households_progress ON households (village_id, reached_at);
        CREATE INDEX households_todo ON households (village_id, priority_rank DESC, last_visit_at)
            WHERE reached_at IS NULL;

        CREATE TABLE visits (
            id INTEGER PRIMARY KEY,
            household_id INTEGER NOT NULL REFERENCES households (id),
            member_id INTEGER NOT NULL REFERENCES members (id),
            request_key TEXT NOT NULL UNIQUE,
            skills INTEGER NOT NULL CHECK (skills BETWEEN 0 AND 31),
            person TEXT CHECK (person IS NULL OR length(person) <= 60),
            person_key TEXT NOT NULL DEFAULT '',
            note TEXT CHECK (note IS NULL OR length(note) <= 200),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            withdrawn_at TEXT
        );
        CREATE INDEX visits_household ON visits (household_id);
        CREATE INDEX visits_member ON visits (member_id, created_at);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            commune TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            object TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_commune ON audit_log (commune, at);
        """,
    ),
    (
        3,
        "message path: inbox before acknowledging, addressed outbox, background tasks",
        """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            update_key TEXT NOT NULL,
            digest TEXT NOT NULL,
            chat_id TEXT,
            payload TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            UNIQUE (channel, update_key, digest)
        );
        CREATE INDEX inbox_pending ON inbox (id) WHERE status = 'pending';
        CREATE INDEX inbox_received ON inbox (received_at);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            priority INTEGER NOT NULL,
            payload TEXT NOT NULL,
            file_name TEXT,
            file_data BYTEA,  -- the PostgreSQL name for bytes (SQLite stores them as a BLOB all the same)
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'unknown', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            message_id TEXT,
            error TEXT
        );
        CREATE INDEX outbox_pending ON outbox (channel, priority, id) WHERE status = 'pending';
        CREATE INDEX outbox_created ON outbox (created_at);

        ALTER TABLE sessions ADD COLUMN last_inbound_at TEXT;
        ALTER TABLE sessions ADD COLUMN unreachable_at TEXT;

        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            commune TEXT NOT NULL,
            actor TEXT NOT NULL,
            channel TEXT,
            chat_id TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            done_at TEXT
        );
        CREATE INDEX tasks_pending ON tasks (id) WHERE status = 'pending';

        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );

        DROP TABLE processed_updates;
        """,
    ),
    (
        4,
        "help requests, announcement subscriptions",
        """
        CREATE TABLE help_requests (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            village_id INTEGER NOT NULL REFERENCES villages (id),
            channel TEXT,  -- the citizen, NULL once they asked to be forgotten (the request stays counted)
            chat_id TEXT,
            topic TEXT NOT NULL CHECK (length(topic) <= 60),
            detail TEXT CHECK (detail IS NULL OR length(detail) <= 200),
            time_pref TEXT NOT NULL CHECK (time_pref IN ('morning', 'afternoon', 'evening', 'any')),
            phone TEXT CHECK (phone IS NULL OR length(phone) <= 12),
            at_home INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'taken', 'done', 'cancelled')),
            routed_to TEXT NOT NULL CHECK (routed_to IN ('village', 'officers')),
            volunteer_id INTEGER REFERENCES members (id),
            created_at TEXT NOT NULL,
            taken_at TEXT,
            closed_at TEXT,
            escalated_at TEXT
        );
        CREATE INDEX help_requests_commune ON help_requests (commune, status);
        CREATE INDEX help_requests_person ON help_requests (channel, chat_id);
        CREATE INDEX help_requests_phone ON help_requests (closed_at) WHERE phone IS NOT NULL;

        CREATE TABLE subscriptions (
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            commune TEXT NOT NULL,
            village_id INTEGER REFERENCES villages (id),  -- NULL: the whole commune
            created_at TEXT NOT NULL,
            PRIMARY KEY (channel, chat_id)
        ) WITHOUT ROWID;
        CREATE INDEX subscriptions_commune ON subscriptions (commune, village_id);
        """,
    ),
    (
        5,
        "visits with nothing achieved, outside the volunteer's area, linked to help; household moves",
        """
        ALTER TABLE visits ADD COLUMN outcome TEXT
            CHECK (outcome IS NULL OR outcome IN ('no_phone', 'no_chip', 'not_home', 'refused', 'other'));
        ALTER TABLE visits ADD COLUMN outside INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE visits ADD COLUMN help_id INTEGER REFERENCES help_requests (id);
        ALTER TABLE help_requests ADD COLUMN household_id INTEGER REFERENCES households (id);
        ALTER TABLE help_requests ADD COLUMN raised_by INTEGER REFERENCES members (id);

        CREATE TABLE household_moves (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            household_id INTEGER NOT NULL REFERENCES households (id),
            from_village INTEGER NOT NULL REFERENCES villages (id),
            to_village INTEGER NOT NULL REFERENCES villages (id),
            requested_by INTEGER NOT NULL REFERENCES members (id),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
            created_at TEXT NOT NULL,
            decided_at TEXT,
            decided_by INTEGER REFERENCES members (id)
        );
        CREATE INDEX help_requests_household ON help_requests (household_id) WHERE household_id IS NOT NULL;
        CREATE UNIQUE INDEX household_moves_pending ON household_moves (household_id) WHERE status = 'pending';
        """,
    ),
    (
        6,
        "scheduled jobs: each (job, period, recipient) once",
        """
        CREATE TABLE job_runs (
            job TEXT NOT NULL,
            period TEXT NOT NULL,
            recipient TEXT NOT NULL,
            outbox_key TEXT,
            at TEXT NOT NULL,
            PRIMARY KEY (job, period, recipient)
        ) WITHOUT ROWID;
        """,
    ),
    (
        7,
        "announcements",
        """
        CREATE TABLE announcements (
            id INTEGER PRIMARY KEY,
            commune TEXT NOT NULL,
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 1500),
            village_id INTEGER REFERENCES villages (id),
            send_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'queuing', 'queued', 'cancelled')),
            total INTEGER,
            created_by INTEGER NOT NULL REFERENCES members (id),
            created_at TEXT NOT NULL,
            cancelled_at TEXT
        );
        CREATE INDEX announcements_due ON announcements (status, send_at);

        CREATE TABLE reminders (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            guide_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            due_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            cancelled_at TEXT
        );
        CREATE INDEX reminders_due ON reminders (due_at) WHERE sent_at IS NULL AND cancelled_at IS NULL;
        CREATE INDEX reminders_person ON reminders (channel, chat_id);
        """,
    ),
    (
        8,
        "one-stop figures officers enter for a week or a month",
        """
        CREATE TABLE onestop_figures (
            commune TEXT NOT NULL,
            period TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            fully_online INTEGER NOT NULL CHECK (fully_online BETWEEN 0 AND total),
            partly_online INTEGER NOT NULL CHECK (partly_online BETWEEN 0 AND total),
            by_post INTEGER NOT NULL CHECK (by_post BETWEEN 0 AND total),
            overdue INTEGER NOT NULL CHECK (overdue BETWEEN 0 AND total),
            digitised INTEGER NOT NULL CHECK (digitised BETWEEN 0 AND total),
            paid_online INTEGER NOT NULL CHECK (paid_online BETWEEN 0 AND total),
            entered_by INTEGER NOT NULL REFERENCES members (id),
            entered_at TEXT NOT NULL,
            PRIMARY KEY (commune, period)
        ) WITHOUT ROWID;
        """,
    ),
    (
        9,
        "an announcement's photo (the platform's id for it, valid on that channel only)",
        """
        ALTER TABLE announcements ADD COLUMN photo_ref TEXT;
        ALTER TABLE announcements ADD COLUMN photo_channel TEXT;
        """,
    ),
    (
        10,
        "one person on two channels (linked identities, one-time link codes), files served by signed link",
        """
        CREATE TABLE member_identities (
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            member_id INTEGER NOT NULL REFERENCES members (id),
            linked_at TEXT NOT NULL,
            PRIMARY KEY (channel, chat_id)
        ) WITHOUT ROWID;
        CREATE INDEX member_identities_member ON member_identities (member_id);

        CREATE TABLE link_codes (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES members (id),
            code_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );

        CREATE TABLE shared_files (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            name TEXT NOT NULL CHECK (length(name) <= 120),
            is_image INTEGER NOT NULL DEFAULT 0,
            content BLOB NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX shared_files_expiry ON shared_files (expires_at);

        CREATE TABLE app_keys (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
]


async def apply_migrations(conn: Conn) -> list[int]:
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
