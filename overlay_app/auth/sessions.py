"""Server-side sessions and each person's MSAL token cache: in `auth.db` under the data dir,
or with PLAZA_DATABASE_URL in PostgreSQL (schema `plaza_auth`, auth/pg_schema.py), shared by
every web node behind a load balancer.

The browser holds only a random session id in the cookie (`__Host-plaza` over https, else
`plaza`); what the session holds (who signed in and when, the pending sign-in flow, flashes,
the CSRF token) stays here. So the idle and absolute timeouts and sign-out are enforced by the
server: a copied cookie dies with its row. Rows are found by a hash of the id, so a copy of
this database opens no session. Token caches hold refresh tokens: they are encrypted with a key
derived from the secret key.

Kept apart from overlay.db on purpose: sessions change on most requests and may be lost in a
crash (synchronous=NORMAL), where social data is written with synchronous=FULL. On
PostgreSQL they share the social store's database and connection pool, but take a connection
of their own per request (as auth.db has its own), never inside a social-store transaction.
The SQL is written once for both engines; only the tables' names differ (`table()`).

Each statement commits on its own, on both engines. The one read-modify-write, a refreshed
token cache, is written only over the very state it was refreshed from
(`save_refreshed_token_cache`): of two nodes refreshing one person's tokens at once, the
first write stays and the second is dropped (both hold valid tokens: refresh tokens stay
valid when rotated), and a refresh finishing after sign-out never brings the signed-out
person's tokens back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, Request, Response, current_app
from flask.sessions import SessionInterface, SessionMixin
from sqlite_utils.migrations import Migrations
from werkzeug.datastructures import CallbackDict

from overlay_app import db, dialect
from overlay_app.auth import pg_schema
from overlay_app.pg import conn as pg_conn
from sync import db as sqlite_db

MIGRATIONS = Migrations("plaza.auth")
# How often last_seen is written at most, as a share of the idle timeout (a write per
# request would serialise every page view on one database lock).
TOUCH_SHARE = 0.05


@MIGRATIONS()
def m001_sessions(db: sqlite_utils.Database) -> None:
    db.executescript("""
    CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY, person_id TEXT, data TEXT NOT NULL,
        created_at REAL NOT NULL, signed_in_at REAL, last_seen REAL NOT NULL
    );
    CREATE INDEX sessions_by_person ON sessions (person_id);
    CREATE INDEX sessions_by_last_seen ON sessions (last_seen);
    CREATE TABLE token_caches (
        person_id TEXT PRIMARY KEY, cache BLOB NOT NULL, updated_at REAL NOT NULL
    );
    """)


def open_store(path) -> sqlite_utils.Database:
    """auth.db at `path`, created or migrated (once at start; requests use `store()`)."""
    auth_db = sqlite_db.connect(path)
    sqlite_db.migrate(auth_db, MIGRATIONS, path)
    return auth_db


def open_pg_store(url: str) -> pg_conn.PgHandle:
    """The sessions store on PostgreSQL: a connection of its own, `plaza_auth` migrated."""
    handle = pg_conn.connect(url)
    try:
        pg_schema.migrate(handle)
    except BaseException:
        handle.close()
        raise
    return handle


def _open_auth(settings: Any) -> sqlite_utils.Database | pg_conn.PgHandle:
    if settings.database_url:
        return pg_conn.lend(settings.database_url)
    return sqlite_db.connect(settings.auth_path)


def store() -> sqlite_utils.Database | pg_conn.PgHandle:
    """This request's connection to the sessions store, lent from the worker's pool
    (db.pooled) and given back at teardown: opening one per request cost more than the
    session's own queries."""
    return db.pooled("auth", _open_auth)


def table(name: str, handle: Any = None) -> str:
    """A table of the sessions store ("sessions" or "token_caches") as SQL on `handle` (this
    request's store by default) names it: in auth.db as it is, on PostgreSQL in its schema."""
    postgres = dialect.is_postgres(store() if handle is None else handle)
    return f"{pg_schema.SCHEMA}.{name}" if postgres else name


def now() -> float:
    """The time as the session rules see it (tests inject `extra["clock"]` to travel)."""
    clock: Callable[[], float] = current_app.extensions["plaza.settings"].extra.get(
        "clock", time.time
    )
    return clock()


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


# -- sessions ------------------------------------------------------------------------------


class ServerSession(CallbackDict, SessionMixin):
    """Flask's session, backed by a row; `session_id` is None until the first save."""

    def __init__(self, initial: dict[str, Any] | None = None, session_id: str | None = None):
        def on_update(_self: CallbackDict) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.session_id = session_id
        self.modified = False
        self.renew = False  # a new id at the next save (after sign-in: no session fixation)
        self.ended = False  # expired or dropped at this request


def renew(session: SessionMixin) -> None:
    """Gives the session a new id at the end of this request (the old one stops working)."""
    if isinstance(session, ServerSession):
        session.renew = True


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if request.path.startswith(f"{app.static_url_path}/"):
            return ServerSession()  # static files need no session (and no database read)
        session_id = request.cookies.get(self.get_cookie_name(app))
        if not session_id:
            return ServerSession()
        row = _load(_hash(session_id))
        if row is None:
            session = ServerSession()
            session.ended = True
            return session
        moment = now()
        if _expired(app, row, moment):
            store().execute(f"DELETE FROM {table('sessions')} WHERE id_hash = ?", [row["id_hash"]])
            session = ServerSession()
            session.ended = True
            return session
        if moment - row["last_seen"] >= _idle_seconds(app) * TOUCH_SHARE:
            store().execute(
                f"UPDATE {table('sessions')} SET last_seen = ? WHERE id_hash = ?",
                [moment, row["id_hash"]],
            )
        return ServerSession(json.loads(row["data"]), session_id)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.session_id and (session.renew or not session):
            store().execute(
                f"DELETE FROM {table('sessions')} WHERE id_hash = ?", [_hash(session.session_id)]
            )
            if not session:
                self._delete_cookie(app, response)
                return
            session.session_id = None
        elif session.ended and not session:
            self._delete_cookie(app, response)
            return
        if session.session_id is None:
            if session:
                self._create(app, session, response)
        elif session.modified:
            _update(session)

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        # With every attribute it was set with: browsers ignore a __Host- cookie without Secure.
        response.delete_cookie(
            self.get_cookie_name(app),
            path=self.get_cookie_path(app),
            domain=self.get_cookie_domain(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )

    def _create(self, app: Flask, session: ServerSession, response: Response) -> None:
        session_id = secrets.token_urlsafe(32)
        moment = now()
        _sweep(app, moment)
        store().execute(
            f"INSERT INTO {table('sessions')} (id_hash, person_id, data, created_at, signed_in_at,"
            " last_seen) VALUES (?, ?, ?, ?, ?, ?)",
            [
                _hash(session_id),
                session.get("person_id"),
                json.dumps(dict(session)),
                moment,
                session.get("signed_in_at"),
                moment,
            ],
        )
        session.session_id = session_id
        response.set_cookie(
            self.get_cookie_name(app),
            session_id,
            path=self.get_cookie_path(app),
            domain=self.get_cookie_domain(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )
        response.vary.add("Cookie")


SESSION_COLUMNS = ("id_hash", "person_id", "data", "created_at", "signed_in_at", "last_seen")


def _load(id_hash: str) -> dict[str, Any] | None:
    row = (
        store()
        .execute(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM {table('sessions')} WHERE id_hash = ?",
            [id_hash],
        )
        .fetchone()
    )
    return dict(zip(SESSION_COLUMNS, row, strict=True)) if row else None


def _update(session: ServerSession) -> None:
    assert session.session_id is not None
    store().execute(
        f"UPDATE {table('sessions')} SET data = ?, person_id = ?, signed_in_at = ?"
        " WHERE id_hash = ?",
        [
            json.dumps(dict(session)),
            session.get("person_id"),
            session.get("signed_in_at"),
            _hash(session.session_id),
        ],
    )


def _idle_seconds(app: Flask) -> float:
    return app.extensions["plaza.settings"].session_idle_minutes * 60


def _max_seconds(app: Flask) -> float:
    return app.extensions["plaza.settings"].session_max_hours * 3600


def _expired(app: Flask, row: dict[str, Any], moment: float) -> bool:
    started = row["signed_in_at"] or row["created_at"]
    return moment - row["last_seen"] > _idle_seconds(app) or moment - started > _max_seconds(app)


def _sweep(app: Flask, moment: float) -> None:
    """Forgets sessions past either timeout (when a session is made: the table stays small)."""
    store().execute(
        f"DELETE FROM {table('sessions')}"
        " WHERE last_seen < ? OR coalesce(signed_in_at, created_at) < ?",
        [moment - _idle_seconds(app), moment - _max_seconds(app)],
    )


def end_sessions_of(person_id: str) -> None:
    """Every session of the person ends now (disabled in Entra, or gone from the directory)."""
    store().execute(f"DELETE FROM {table('sessions')} WHERE person_id = ?", [person_id])
    forget_token_cache(person_id)


def has_other_sessions(person_id: str, session: SessionMixin) -> bool:
    """Whether the person is signed in elsewhere too (another browser keeps their tokens)."""
    own = getattr(session, "session_id", None)
    row = (
        store()
        .execute(
            f"SELECT 1 FROM {table('sessions')} WHERE person_id = ? AND id_hash != ? LIMIT 1",
            [person_id, _hash(own) if own else ""],
        )
        .fetchone()
    )
    return row is not None


# -- token caches --------------------------------------------------------------------------


def _cipher() -> Fernet:
    secret_key = current_app.extensions["plaza.settings"].secret_key
    digest = hashlib.sha256(b"plaza token cache\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True)
class TokenCache:
    """A person's serialized MSAL token cache (`state`) and the row it was read from
    (`stored`, its ciphertext: a fresh random IV per write makes it a version stamp too)."""

    state: str
    stored: bytes


def load_token_cache(person_id: str) -> TokenCache | None:
    """The person's token cache, or None (none kept, or the key changed)."""
    row = (
        store()
        .execute(f"SELECT cache FROM {table('token_caches')} WHERE person_id = ?", [person_id])
        .fetchone()
    )
    if row is None:
        return None
    stored = bytes(row[0])
    try:
        return TokenCache(_cipher().decrypt(stored).decode(), stored)
    except InvalidToken:
        return None


def save_token_cache(person_id: str, state: str) -> None:
    """The person's token cache from a sign-in: it replaces whatever was kept."""
    store().execute(
        f"INSERT INTO {table('token_caches')} (person_id, cache, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (person_id) DO UPDATE SET cache = excluded.cache,"
        " updated_at = excluded.updated_at",
        [person_id, _cipher().encrypt(state.encode()), now()],
    )


def save_refreshed_token_cache(person_id: str, state: str, read: TokenCache) -> bool:
    """The cache MSAL changed (a refresh) from `read`, written only if `read` is still what is
    kept, in one statement: a write made since (another node's refresh, a new sign-in) is not
    lost, and a cache forgotten since (sign-out) stays forgotten. Whether it was written."""
    written = store().execute(
        f"UPDATE {table('token_caches')} SET cache = ?, updated_at = ?"
        " WHERE person_id = ? AND cache = ?",
        [_cipher().encrypt(state.encode()), now(), person_id, read.stored],
    )
    return written.rowcount == 1


def forget_token_cache(person_id: str) -> None:
    store().execute(f"DELETE FROM {table('token_caches')} WHERE person_id = ?", [person_id])


def init_app(app: Flask) -> None:
    """Creates or migrates the sessions store once at start (auth.db, or `plaza_auth`)."""
    settings = app.extensions["plaza.settings"]
    if settings.database_url:
        open_pg_store(settings.database_url).close()
    else:
        open_store(settings.auth_path).close()
    app.session_interface = ServerSessionInterface()
