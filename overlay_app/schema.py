"""The social store's schema (overlay.db), as numbered migrations.

Everything people write lives here, keyed by Graph ids (drive_id, item_id) and Entra object ids,
so the index can be rebuilt by a full re-sync without losing a word. Opened with
synchronous=FULL: an acknowledged comment survives power loss.

Ids people see are random (uuid4): comments, rooms, and (m006) messages and notifications, whose
rowids only order them inside. Tables: comments (replies via parent_id; soft-deleted via
deleted_at), comment_likes,
document_likes, tags, mentions, notifications, idempotency (request key -> the response it
produced), audit (append-only), comments_fts (comment text for search).
"""

from __future__ import annotations

import re
import uuid

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("plaza.social")


@MIGRATIONS()
def m001_discussion(db: Database) -> None:
    db.executescript("""
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL,
        parent_id TEXT REFERENCES comments(id),
        author_id TEXT NOT NULL,
        body TEXT NOT NULL,              -- Markdown as written
        body_html TEXT NOT NULL,         -- sanitised rendering
        created_at TEXT NOT NULL, edited_at TEXT, deleted_at TEXT
    );
    CREATE INDEX comments_by_document ON comments (drive_id, item_id, created_at);
    CREATE INDEX comments_by_parent ON comments (parent_id);
    CREATE INDEX comments_by_author ON comments (author_id, created_at);
    CREATE TABLE comment_likes (
        comment_id TEXT NOT NULL REFERENCES comments(id), person_id TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (comment_id, person_id)
    );
    CREATE TABLE document_likes (
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL, person_id TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (drive_id, item_id, person_id)
    );
    CREATE INDEX document_likes_by_person ON document_likes (person_id);
    CREATE TABLE tags (
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL, tag TEXT NOT NULL,
        added_by TEXT NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (drive_id, item_id, tag)
    );
    CREATE INDEX tags_by_tag ON tags (tag);
    CREATE TABLE mentions (
        comment_id TEXT NOT NULL REFERENCES comments(id), person_id TEXT NOT NULL,
        PRIMARY KEY (comment_id, person_id)
    );
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person_id TEXT NOT NULL, kind TEXT NOT NULL,  -- mention | reply | like
        actor_id TEXT NOT NULL, drive_id TEXT NOT NULL, item_id TEXT NOT NULL,
        comment_id TEXT, created_at TEXT NOT NULL, read_at TEXT
    );
    CREATE INDEX notifications_by_person ON notifications (person_id, id);
    CREATE TABLE idempotency (
        person_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
        status INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (person_id, key)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor_id TEXT,
        action TEXT NOT NULL, target TEXT, detail TEXT
    );
    CREATE TRIGGER audit_is_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_is_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """)
    db["comments"].enable_fts(
        ["body"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
    )


@MIGRATIONS()
def m002_rate_events(db: Database) -> None:
    # One row per write a person made in the last minute (security.check_rate): kept in the
    # database, not process memory, so that every gunicorn worker counts the same writes.
    db.executescript("""
    CREATE TABLE rate_events (
        person_id TEXT NOT NULL, action TEXT NOT NULL, at REAL NOT NULL  -- unix seconds
    );
    CREATE INDEX rate_events_by_person ON rate_events (person_id, action, at);
    """)


@MIGRATIONS()
def m003_chat(db: Database) -> None:
    """Chat: rooms (per document, community channels, direct), messages, read markers, events.

    `events` is the durable, ordered log every real-time process reads: a message is written
    with its event in one transaction, and clients resume from the last event id they saw.
    """
    db.executescript("""
    CREATE TABLE rooms (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,                   -- document | channel | direct
        drive_id TEXT, item_id TEXT,          -- document rooms only
        name TEXT,                            -- channels; NULL for document and direct rooms
        description TEXT,
        closed INTEGER NOT NULL DEFAULT 0,    -- channels: 1 = members only
        created_by TEXT NOT NULL, created_at TEXT NOT NULL, archived_at TEXT
    );
    CREATE UNIQUE INDEX rooms_by_document ON rooms (drive_id, item_id) WHERE kind = 'document';
    CREATE UNIQUE INDEX rooms_by_channel_name ON rooms (name COLLATE NOCASE)
        WHERE kind = 'channel';
    CREATE TABLE room_members (
        room_id TEXT NOT NULL REFERENCES rooms(id), person_id TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'member',  -- member | owner
        joined_at TEXT NOT NULL, PRIMARY KEY (room_id, person_id)
    );
    CREATE INDEX room_members_by_person ON room_members (person_id);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id TEXT NOT NULL REFERENCES rooms(id),
        author_id TEXT NOT NULL,
        body TEXT NOT NULL, body_html TEXT NOT NULL,
        created_at TEXT NOT NULL, edited_at TEXT, deleted_at TEXT,
        client_key TEXT                       -- the sender's idempotency key
    );
    CREATE INDEX messages_by_room ON messages (room_id, id);
    CREATE UNIQUE INDEX messages_by_client_key ON messages (author_id, client_key)
        WHERE client_key IS NOT NULL;
    CREATE TABLE message_mentions (
        message_id INTEGER NOT NULL REFERENCES messages(id), person_id TEXT NOT NULL,
        PRIMARY KEY (message_id, person_id)
    );
    CREATE TABLE read_markers (
        room_id TEXT NOT NULL, person_id TEXT NOT NULL, last_read_id INTEGER NOT NULL,
        updated_at TEXT NOT NULL, PRIMARY KEY (room_id, person_id)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        room_id TEXT,                         -- NULL: addressed to `person_id` only
        person_id TEXT,
        kind TEXT NOT NULL,                   -- message.new | message.edited | message.deleted |
                                              -- room.read | notification.new | ...
        payload TEXT NOT NULL,                -- JSON
        created_at TEXT NOT NULL
    );
    CREATE INDEX events_by_room ON events (room_id, id);
    """)
    db["messages"].enable_fts(
        ["body"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
    )


@MIGRATIONS()
def m004_chat_notifications(db: Database) -> None:
    """Chat mentions are notifications: their rows name the room and the message. Channels and
    direct rooms have no document, so their rows carry drive_id = item_id = ''."""
    db.executescript("""
    ALTER TABLE notifications ADD COLUMN room_id TEXT;
    ALTER TABLE notifications ADD COLUMN message_id INTEGER;
    CREATE INDEX notifications_by_message ON notifications (message_id)
        WHERE message_id IS NOT NULL;
    """)


@MIGRATIONS()
def m005_forget_deleted_words(db: Database) -> None:
    """A deleted message's words also leave the events that carried them (event_log.forget_words
    does it at each delete from now on; this does it for messages deleted before)."""
    db.execute("""
    UPDATE events SET payload = json_set(payload, '$.body', '', '$.bodyHtml', '')
    WHERE kind IN ('message.new', 'message.edited')
      AND payload ->> '$.id' IN (SELECT id FROM messages WHERE deleted_at IS NOT NULL)
    """)


@MIGRATIONS()
def m006_opaque_ids(db: Database) -> None:
    """Messages and notifications get the ids people see: random (public_id), so that one's
    own ids no longer count everyone's writes; rowids stay, to order them inside. A message
    also gets `seq`, its place in its room (1, 2, ...), which tells what the room shows anyway.
    The events already written are rewritten to carry the new ids. (Statement by statement:
    executescript would commit the migration's transaction half-way.)"""
    for table in ("messages", "notifications"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN public_id TEXT")
        rowids = [row[0] for row in db.execute(f"SELECT id FROM {table}")]
        db.conn.executemany(
            f"UPDATE {table} SET public_id = ? WHERE id = ?",
            [(new_public_id(), rowid) for rowid in rowids],
        )
    db.execute("ALTER TABLE messages ADD COLUMN seq INTEGER")
    for statement in M006_STATEMENTS:
        db.execute(statement)


M006_STATEMENTS = (
    """UPDATE messages SET seq = places.n FROM (
        SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY id) AS n FROM messages
    ) AS places WHERE messages.id = places.id""",
    "CREATE UNIQUE INDEX messages_by_public_id ON messages (public_id)",
    "CREATE UNIQUE INDEX notifications_by_public_id ON notifications (public_id)",
    """UPDATE events SET payload = json_set(payload, '$.id', m.public_id, '$.seq', m.seq)
    FROM messages AS m
    WHERE events.kind IN ('message.new', 'message.edited', 'message.deleted')
      AND m.id = events.payload ->> '$.id'""",
    """UPDATE events SET payload = json_set(payload,
        '$.id', (SELECT public_id FROM notifications WHERE id = events.payload ->> '$.id'),
        '$.messageId', (SELECT public_id FROM messages WHERE id = events.payload ->> '$.messageId'))
    WHERE kind = 'notification.new'""",
    """UPDATE events SET payload = json_set(payload,
        '$.lastReadId', (SELECT public_id FROM messages WHERE id = payload ->> '$.lastReadId'),
        '$.lastReadSeq', coalesce(
            (SELECT seq FROM messages WHERE id = events.payload ->> '$.lastReadId'), 0))
    WHERE kind = 'room.read'""",
)


@MIGRATIONS()
def m007_admin(db: Database) -> None:
    """The admin console's tables (overlay_app/admin/store.py owns their SQL): reports of
    comments and messages, moderation acts, feature switches, terms of use and who accepted
    which version. Comments and messages get `hidden_at`: hidden by a moderator, they leave
    every surface but the moderation queue (the stores' SHOWN predicates)."""
    for statement in M007_STATEMENTS:
        db.execute(statement)


M007_STATEMENTS = (
    "ALTER TABLE comments ADD COLUMN hidden_at TEXT",
    "ALTER TABLE messages ADD COLUMN hidden_at TEXT",
    """CREATE TABLE reports (
        id TEXT PRIMARY KEY,                  -- random, as people see it
        kind TEXT NOT NULL,                   -- comment | message
        target_id TEXT NOT NULL,              -- comments.id or messages.public_id
        reporter_id TEXT NOT NULL, reason TEXT NOT NULL, created_at TEXT NOT NULL,
        resolved_at TEXT, resolved_by TEXT, resolution TEXT  -- hide | restore | delete | dismiss
    )""",
    "CREATE INDEX reports_open ON reports (resolved_at, created_at)",
    "CREATE UNIQUE INDEX reports_once ON reports (kind, target_id, reporter_id)"
    " WHERE resolved_at IS NULL",
    """CREATE TABLE moderation_acts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target_id TEXT NOT NULL,
        act TEXT NOT NULL, reason TEXT NOT NULL, moderator_id TEXT NOT NULL,
        author_id TEXT NOT NULL, at TEXT NOT NULL
    )""",
    "CREATE INDEX moderation_acts_by_target ON moderation_acts (kind, target_id, id)",
    """CREATE TABLE feature_switches (
        name TEXT PRIMARY KEY, enabled INTEGER NOT NULL, changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL
    )""",
    """CREATE TABLE terms_versions (
        version INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL,
        published_by TEXT NOT NULL, published_at TEXT NOT NULL
    )""",
    """CREATE TABLE terms_acceptances (
        person_id TEXT NOT NULL, version INTEGER NOT NULL REFERENCES terms_versions(version),
        accepted_at TEXT NOT NULL, PRIMARY KEY (person_id, version)
    )""",
)


@MIGRATIONS()
def m008_attention(db: Database) -> None:
    """Attention (issue 15): follows, notification levels and delivery choices, the feed's
    activity per conversation, and mail (a queue of what to tell, an outbox of mails).

    A target is named by kind and one text key: "drive_id/item_id" for a document or folder
    (a library is its root folder), a site id, a person's oid, a tag, a chat room id."""
    for statement in M008_STATEMENTS:
        db.execute(statement)


M008_STATEMENTS = (
    """CREATE TABLE follows (
        person_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (person_id, kind, target))""",
    "CREATE INDEX follows_by_target ON follows (kind, target)",
    """CREATE TABLE levels (
        person_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
        level TEXT NOT NULL, set_at TEXT NOT NULL, PRIMARY KEY (person_id, kind, target))""",
    "CREATE INDEX levels_by_target ON levels (kind, target, level)",
    """CREATE TABLE delivery_choices (
        person_id TEXT NOT NULL, event TEXT NOT NULL, channel TEXT NOT NULL,
        enabled INTEGER NOT NULL, PRIMARY KEY (person_id, event, channel))""",
    """CREATE TABLE feed_activity (
        conversation TEXT PRIMARY KEY, drive_id TEXT, item_id TEXT, room_id TEXT,
        last_at TEXT NOT NULL, last_actor_id TEXT NOT NULL,
        last_comment_id TEXT, last_message_id INTEGER)""",
    "CREATE INDEX feed_activity_by_time ON feed_activity (last_at, conversation)",
    "CREATE INDEX feed_activity_by_drive ON feed_activity (drive_id, last_at)",
    """CREATE TABLE feed_actors (
        conversation TEXT NOT NULL, actor_id TEXT NOT NULL,
        conversation_at TEXT NOT NULL,  -- the conversation's last activity, by anyone
        PRIMARY KEY (conversation, actor_id))""",
    "CREATE INDEX feed_actors_by_actor ON feed_actors (actor_id, conversation_at)",
    """CREATE TABLE mail_choices (
        person_id TEXT PRIMARY KEY, digest TEXT NOT NULL, last_digest_at TEXT)""",
    """CREATE TABLE mail_queue (
        id INTEGER PRIMARY KEY AUTOINCREMENT, person_id TEXT NOT NULL, event TEXT NOT NULL,
        immediate INTEGER NOT NULL, conversation TEXT NOT NULL,
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL, room_id TEXT,
        notification_id INTEGER, actor_id TEXT NOT NULL, created_at TEXT NOT NULL,
        due_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'queued', outbox_id INTEGER)""",
    "CREATE INDEX mail_queue_due ON mail_queue (state, immediate, due_at)",
    "CREATE INDEX mail_queue_by_person ON mail_queue (person_id, state)",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
        person_id TEXT NOT NULL, mail_kind TEXT NOT NULL, recipient TEXT NOT NULL,
        subject TEXT NOT NULL, text_body TEXT NOT NULL, html_body TEXT NOT NULL,
        unsubscribe_url TEXT NOT NULL, places TEXT NOT NULL,
        state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL,
        last_error TEXT, created_at TEXT NOT NULL, sent_at TEXT)""",
    "CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at)",
)


@MIGRATIONS()
def m009_writeback(db: Database) -> None:
    """Write-back (overlay_app/writeback): what was last written into SharePoint for each
    document (a document is written again when its discussion differs from this), and one
    row per job and write-back round that did something, with the error an admin must fix."""
    db.executescript("""
    CREATE TABLE writeback_state (
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL,
        comments INTEGER NOT NULL, likes INTEGER NOT NULL, last_discussed TEXT,
        tags TEXT NOT NULL, written_at TEXT NOT NULL,
        PRIMARY KEY (drive_id, item_id)
    );
    CREATE TABLE writeback_rounds (
        id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL,
        started_at TEXT NOT NULL, ended_at TEXT NOT NULL,
        written INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        archived INTEGER NOT NULL DEFAULT 0, error TEXT
    );
    CREATE INDEX writeback_rounds_by_job ON writeback_rounds (job, id);
    """)


@MIGRATIONS()
def m010_embedded(db: Database) -> None:
    # Plaza tokens of embedded pages (overlay_app/embedded/store.py): stored by their hash,
    # each with the person's delegated Graph token from the on-behalf-of exchange (for the
    # live check; never sent to a browser). Revoked rows stay until they expire.
    db.executescript("""
    CREATE TABLE embedded_sessions (
        token_hash TEXT PRIMARY KEY, person_id TEXT NOT NULL, roles TEXT NOT NULL,
        created_at REAL NOT NULL, expires_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
        graph_token TEXT, graph_expires_at REAL
    );
    CREATE INDEX embedded_sessions_by_person ON embedded_sessions (person_id);
    """)


@MIGRATIONS()
def m011_insights(db: Database) -> None:
    """Insights' cache of the network analysis (overlay_app/insights/store.py): one answer per
    (set of visible documents, measure, parameters), so that a viewer only ever reads what was
    computed over exactly the documents their own principal set may open."""
    db.executescript("""
    CREATE TABLE insights_cache (
        visibility_hash TEXT NOT NULL,        -- sha256 of the sorted visible document keys
        kind TEXT NOT NULL,                   -- network
        params TEXT NOT NULL,                 -- e.g. department/90/min5/walls...
        computed_at TEXT NOT NULL,
        seconds REAL NOT NULL,                -- how long the computation took
        payload TEXT NOT NULL,                -- JSON
        PRIMARY KEY (visibility_hash, kind, params)
    );
    -- insights read the comments of the last days, and the documents discussed in them
    CREATE INDEX comments_by_time ON comments (created_at, drive_id, item_id);
    """)


@MIGRATIONS()
def m014_locale(db: Database) -> None:
    """The language each person chose for pages and mail (overlay_app/i18n/store.py owns the
    SQL); no row: their browser's language decides."""
    db.execute(
        "CREATE TABLE person_locales ("
        " person_id TEXT PRIMARY KEY, locale TEXT NOT NULL, set_at TEXT NOT NULL)"
    )


# Every write that moves a KPI marks its UTC day for insights' nightly totals; a reply (or its
# deletion, hiding) also marks its thread's day, whose first reply it may be. NOT EXISTS, not
# OR IGNORE: an outer statement's conflict policy (an upsert's too) overrides a trigger's.
_MARK = (
    "INSERT INTO insight_dirty_days (day) SELECT substr({at}, 1, 10) WHERE {at} IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM insight_dirty_days WHERE day = substr({at}, 1, 10));"
)
_MARK_THREAD = (
    "INSERT INTO insight_dirty_days (day)"
    " SELECT substr(t.created_at, 1, 10) FROM comments AS t WHERE t.id = {row}.parent_id"
    " AND NOT EXISTS (SELECT 1 FROM insight_dirty_days WHERE day = substr(t.created_at, 1, 10));"
)
_TOTALS_TRIGGERS = [  # (table, event, what marks the days)
    ("comments", "INSERT", ["NEW.created_at"], "NEW"),
    ("comments", "UPDATE OF deleted_at, hidden_at, author_id", ["NEW.created_at"], "NEW"),
    ("comments", "DELETE", ["OLD.created_at"], "OLD"),
    ("comment_likes", "INSERT", ["NEW.created_at"], None),
    ("comment_likes", "DELETE", ["OLD.created_at"], None),
    ("document_likes", "INSERT", ["NEW.created_at"], None),
    ("document_likes", "DELETE", ["OLD.created_at"], None),
    ("notifications", "UPDATE OF read_at", ["OLD.read_at", "NEW.read_at"], None),
    ("notifications", "DELETE", ["OLD.read_at"], None),
    ("messages", "INSERT", ["NEW.created_at"], None),
    ("messages", "UPDATE OF deleted_at, hidden_at, author_id", ["NEW.created_at"], None),
    ("messages", "DELETE", ["OLD.created_at"], None),
    ("read_markers", "INSERT", ["NEW.updated_at"], None),
    ("read_markers", "UPDATE", ["OLD.updated_at", "NEW.updated_at"], None),
]


@MIGRATIONS()
def m013_insight_totals(db: Database) -> None:
    """Insights' daily totals (overlay_app/insights/store_totals.py), kept by the nightly job
    for the days it marks complete, so that a KPI page sums a few rows per document and day
    instead of reading every comment: per document, UTC day and person what they wrote,
    liked and read there (a person appears only if they did something: the exact set of
    people is kept, no sketch); per thread its first reply by someone else. Trimming happens
    at read time, by document, exactly as for the comments themselves. Indexes let a day be
    recomputed from its own rows; triggers mark the days whose activity changed."""
    db.executescript("""
    -- documents and people by number: the totals' rows are small and quick to compare
    CREATE TABLE insight_documents (
        n INTEGER PRIMARY KEY, drive_id TEXT NOT NULL, item_id TEXT NOT NULL,
        UNIQUE (drive_id, item_id)
    );
    CREATE TABLE insight_people (n INTEGER PRIMARY KEY, person_id TEXT NOT NULL UNIQUE);
    CREATE TABLE insight_day_people (
        day INTEGER NOT NULL,                 -- UTC days since 1970-01-01
        document INTEGER NOT NULL, person INTEGER NOT NULL,
        threads INTEGER NOT NULL, replies INTEGER NOT NULL,  -- counted comments written
        likes INTEGER NOT NULL,               -- likes given (the document's comments, itself)
        messages INTEGER NOT NULL,            -- live, shown messages in its chat room
        reads INTEGER NOT NULL,               -- notifications read, room read marker moved
        PRIMARY KEY (day, document, person)
    ) WITHOUT ROWID;
    CREATE TABLE insight_day_documents (      -- the same summed over people, per document
        day INTEGER NOT NULL, document INTEGER NOT NULL,
        threads INTEGER NOT NULL, replies INTEGER NOT NULL,
        written INTEGER NOT NULL,             -- comments and messages
        PRIMARY KEY (day, document)
    ) WITHOUT ROWID;
    CREATE TABLE insight_threads (
        comment_id TEXT PRIMARY KEY, document INTEGER NOT NULL, author INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        first_reply_at TEXT,                  -- the first counted reply by someone else
        wait_ms INTEGER                       -- from the thread to it
    );
    CREATE INDEX insight_threads_by_time ON insight_threads (created_at);
    CREATE TABLE insight_dirty_days (day TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE insight_totals_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        complete_until TEXT NOT NULL,         -- totals hold every day before this (a UTC day)
        computed_at TEXT NOT NULL, seconds REAL NOT NULL, days INTEGER NOT NULL
    );
    CREATE INDEX comment_likes_by_time ON comment_likes (created_at);
    CREATE INDEX document_likes_by_time ON document_likes (created_at);
    CREATE INDEX notifications_by_read ON notifications (read_at) WHERE read_at IS NOT NULL;
    CREATE INDEX messages_by_time ON messages (created_at);
    CREATE INDEX read_markers_by_time ON read_markers (updated_at);
    """)
    for n, (table, event, stamps, thread) in enumerate(_TOTALS_TRIGGERS):
        marks = " ".join(_MARK.format(at=at) for at in stamps)
        if thread:
            marks += " " + _MARK_THREAD.format(row=thread)
        db.execute(f"CREATE TRIGGER insight_days_{n} AFTER {event} ON {table} BEGIN {marks} END")


PUBLIC_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_public_id(value: object) -> bool:
    return isinstance(value, str) and PUBLIC_ID.fullmatch(value) is not None


def new_public_id() -> str:
    """An id that tells nothing but itself (uuid4: 122 random bits), as people see messages
    and notifications."""
    return str(uuid.uuid4())
