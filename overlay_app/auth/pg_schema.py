"""The sessions store's schema on PostgreSQL: the same history as sessions.py's MIGRATIONS.

With PLAZA_DATABASE_URL the sessions and token caches live in the social store's database, in
a schema of their own (`plaza_auth`), so their table names never meet the social store's
(`public`) or the sync index's (`plaza_index`), and the three can be dumped, sized or dropped
apart. Each migration of auth.db has its PostgreSQL form here, under the same name and in the
same order (tests/overlay_app/test_sessions_nodes.py holds the two lists equal); applied names
are kept in `plaza_auth.plaza_migrations`. A migration runs in one transaction under an
advisory lock, so that web nodes starting together migrate once.

Types as SQLite holds the values: TEXT -> text, REAL -> double precision, BLOB -> bytea.
"""

from __future__ import annotations

from overlay_app.pg.conn import PgHandle
from sync.pg_migrate import apply_migrations

SCHEMA = "plaza_auth"
MIGRATIONS_TABLE = f"{SCHEMA}.plaza_migrations"
MIGRATION_LOCK = 7_301_117  # pg_advisory_xact_lock key: one node migrates plaza_auth at a time

M001 = (
    f"""CREATE TABLE {SCHEMA}.sessions (
        id_hash text PRIMARY KEY, person_id text, data text NOT NULL,
        created_at double precision NOT NULL, signed_in_at double precision,
        last_seen double precision NOT NULL)""",
    f"CREATE INDEX sessions_by_person ON {SCHEMA}.sessions (person_id)",
    f"CREATE INDEX sessions_by_last_seen ON {SCHEMA}.sessions (last_seen)",
    f"""CREATE TABLE {SCHEMA}.token_caches (
        person_id text PRIMARY KEY, cache bytea NOT NULL,
        updated_at double precision NOT NULL)""",
)

# name -> statements, in sessions.py's order
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (("m001_sessions", M001),)


def migrate(handle: PgHandle) -> list[str]:
    """Applies the migrations this database lacks, each in its own transaction; their names."""
    return apply_migrations(handle, MIGRATIONS_TABLE, MIGRATION_LOCK, MIGRATIONS, schema=SCHEMA)
