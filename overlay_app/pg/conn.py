"""The social store's connection on PostgreSQL: the adapter shared with the sync index
(sync/pg.py, where it lives so that sync reaches it too), with the social store's defaults
(its own writer lock, the database's default search_path)."""

from __future__ import annotations

import psycopg

from sync.pg import (
    DIALECT,
    POOL_MAX,
    WRITER_LOCK,
    Options,
    PgHandle,
    close_pool,
    configure,
    connect,
    lend,
    to_psycopg,
)

__all__ = [
    "DIALECT",
    "POOL_MAX",
    "WRITER_LOCK",
    "Options",
    "PgHandle",
    "close_pool",
    "configure",
    "connect",
    "lend",
    "psycopg",
    "to_psycopg",
]
