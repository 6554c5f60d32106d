"""The index's schema, as numbered migrations (never ad-hoc ALTERs at run time).

Glossary of the tables:
- sites, drives, items: what exists in SharePoint. An item is keyed by (drive_id, item_id), its
  Graph ids; `path` and `web_url` are derived and recomputed on renames and moves. Deleted items
  stay as tombstones (`deleted = 1`): social data refers to them.
- acl: principals granted on an item with unique permissions, or on a library root. Principal
  keys: "user:{oid}", "group:{group id}", "sitegroup:{site id}:{number}", "everyone" (everyone
  except external users), "link:organization", "link:anonymous" (never matched: nobody is
  known to hold an anonymous link).
- items.acl_item_id: the item whose acl applies (itself when unique, else the nearest such
  ancestor, else the library root). NULL = unknown = visible to nobody. `perms_state` on the
  acl holder says whether its acl rows are complete ("ok"); anything else is visible to nobody.
- item_holders: items.rowid -> the rowid of its acl holder (NULL when deleted or the holder is
  not indexed), kept by triggers: a narrow copy for search's long walks.
- site_group_members: who is in a SharePoint site group (principal keys as above).
- people, groups, group_members (direct), memberships (transitive, user -> group), stored once;
  never expanded into per-item rows.
- cursors: the deltaLink per drive and for users and groups (a nextLink while a round is
  under way; `round_id` while that round is a full enumeration to mark and sweep).
- jobs, runs, locks: the scheduler's.
- subscriptions, change_notifications, freshness_state: Graph change notifications (one
  subscription per library with its clientState secret; the queue the web app's webhook fills
  and the scheduler drains; whether notifications are on, and the connector's budget figures).
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("plaza.index")


@MIGRATIONS()
def m001_documents(db: Database) -> None:
    db.executescript("""
    CREATE TABLE sites (
        id TEXT PRIMARY KEY, hostname TEXT, name TEXT, title TEXT, description TEXT,
        web_url TEXT, created_at TEXT, modified_at TEXT, synced_at TEXT,
        removed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE drives (
        id TEXT PRIMARY KEY, site_id TEXT NOT NULL REFERENCES sites(id), name TEXT,
        web_url TEXT, drive_type TEXT, synced_at TEXT, removed INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE items (
        drive_id TEXT NOT NULL REFERENCES drives(id), item_id TEXT NOT NULL,
        parent_id TEXT, name TEXT, path TEXT, web_url TEXT,
        is_folder INTEGER NOT NULL DEFAULT 0, is_root INTEGER NOT NULL DEFAULT 0,
        file_type TEXT, mime_type TEXT, size INTEGER,
        created_by TEXT, created_by_name TEXT, created_at TEXT,
        modified_by TEXT, modified_by_name TEXT, modified_at TEXT,
        etag TEXT, ctag TEXT, site_id TEXT, site_title TEXT,
        list_id TEXT, list_item_id INTEGER, list_item_unique_id TEXT,
        has_unique_perms INTEGER NOT NULL DEFAULT 0,
        perms_state TEXT NOT NULL DEFAULT 'unknown',
        acl_item_id TEXT,
        deleted INTEGER NOT NULL DEFAULT 0, deleted_at TEXT,
        seen_round TEXT,
        PRIMARY KEY (drive_id, item_id)
    );
    CREATE INDEX items_by_parent ON items (drive_id, parent_id);
    CREATE INDEX items_by_acl ON items (drive_id, acl_item_id);
    CREATE INDEX items_by_modified ON items (modified_at);
    CREATE TABLE acl (
        drive_id TEXT NOT NULL, item_id TEXT NOT NULL, principal TEXT NOT NULL,
        role TEXT NOT NULL, via TEXT NOT NULL DEFAULT 'grant',
        PRIMARY KEY (drive_id, item_id, principal, via)
    );
    CREATE INDEX acl_by_principal ON acl (principal, drive_id, item_id);
    CREATE TABLE site_group_members (
        site_id TEXT NOT NULL, group_number INTEGER NOT NULL, principal TEXT NOT NULL,
        PRIMARY KEY (site_id, group_number, principal)
    );
    CREATE INDEX site_group_members_by_principal ON site_group_members (principal);
    CREATE TABLE cursors (
        scope TEXT PRIMARY KEY, delta_link TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    """)
    db["items"].enable_fts(
        ["name", "path", "site_title"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


@MIGRATIONS()
def m002_people(db: Database) -> None:
    db.executescript("""
    CREATE TABLE people (
        id TEXT PRIMARY KEY, upn TEXT, display_name TEXT, given_name TEXT, surname TEXT,
        mail TEXT, job_title TEXT, department TEXT, office TEXT, business_phone TEXT,
        manager_id TEXT, has_photo INTEGER, enabled INTEGER NOT NULL DEFAULT 1,
        guest INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, synced_at TEXT
    );
    CREATE INDEX people_by_upn ON people (upn COLLATE NOCASE);
    CREATE TABLE groups (
        id TEXT PRIMARY KEY, display_name TEXT, mail TEXT, description TEXT,
        unified INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, synced_at TEXT
    );
    CREATE TABLE group_members (
        group_id TEXT NOT NULL, member_id TEXT NOT NULL, member_type TEXT NOT NULL,
        PRIMARY KEY (group_id, member_id)
    );
    CREATE INDEX group_members_by_member ON group_members (member_id);
    CREATE TABLE memberships (
        user_id TEXT NOT NULL, group_id TEXT NOT NULL, PRIMARY KEY (user_id, group_id)
    );
    """)


@MIGRATIONS()
def m003_jobs(db: Database) -> None:
    db.executescript("""
    CREATE TABLE jobs (
        name TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL,
        schedule TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, started_at TEXT NOT NULL,
        ended_at TEXT, outcome TEXT NOT NULL DEFAULT 'running', full INTEGER NOT NULL DEFAULT 0,
        added INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,
        moved INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
        permission_changes INTEGER NOT NULL DEFAULT 0, throttled_waits INTEGER NOT NULL DEFAULT 0,
        throttled_seconds REAL NOT NULL DEFAULT 0, error TEXT, request_id TEXT
    );
    CREATE INDEX runs_by_job ON runs (job, id);
    CREATE TABLE locks (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL, acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """)


@MIGRATIONS()
def m004_cursor_rounds(db: Database) -> None:
    # A full enumeration (first sync, 410, --full) marks what it sees with a round id and,
    # when it ends, tombstones the drive's items it did not see. The id is kept with the
    # cursor so that a round interrupted by a crash still sweeps when it is resumed.
    db.executescript("ALTER TABLE cursors ADD COLUMN round_id TEXT;")


@MIGRATIONS()
def m005_fts_on_text_changes(db: Database) -> None:
    # The FTS index only holds name, path and site title: refresh it when one of those
    # changes, not on every update of an item (a full delta round re-writes every row, and
    # permission reads touch perms_state), which doubled the cost of writing a page.
    db.executescript("""
    DROP TRIGGER IF EXISTS items_au;
    CREATE TRIGGER items_au AFTER UPDATE OF name, path, site_title ON items
    WHEN old.name IS NOT new.name OR old.path IS NOT new.path
         OR old.site_title IS NOT new.site_title
    BEGIN
      INSERT INTO items_fts (items_fts, rowid, name, path, site_title)
      VALUES ('delete', old.rowid, old.name, old.path, old.site_title);
      INSERT INTO items_fts (rowid, name, path, site_title)
      VALUES (new.rowid, new.name, new.path, new.site_title);
    END;
    """)


@MIGRATIONS()
def m006_unread_acl_index(db: Database) -> None:
    # Each documents run re-reads the ACLs that failed or were never read, without scanning
    # every item of the drive to find them.
    db.executescript("""
    CREATE INDEX IF NOT EXISTS items_unread_acl ON items (drive_id)
    WHERE has_unique_perms = 1 AND perms_state != 'ok' AND deleted = 0;
    """)


@MIGRATIONS()
def m007_cursor_mid_round(db: Database) -> None:
    # A run that resumes a round saved mid-way by an earlier run (a nextLink) gets, at its end,
    # a deltaLink that replays changes from when that round began: changes made since, even
    # before this run started, would wait for the next run. The flag tells the engine to
    # follow such a round with one more, so that a run reflects everything before it began.
    db.executescript("ALTER TABLE cursors ADD COLUMN mid_round INTEGER NOT NULL DEFAULT 0;")


@MIGRATIONS()
def m008_ok_holders_index(db: Database) -> None:
    # Trimmed queries start from the ACL holders that admit a person (trimming.VISIBLE_HOLDERS)
    # and check each holder's state: through the primary key that was one lookup in an index
    # of every item per holder (a third of a search's time at a million items); this index
    # holds only the complete, live holders, so it stays small and in cache.
    db.executescript("""
    CREATE INDEX IF NOT EXISTS items_ok_holders ON items (drive_id, item_id, perms_state, deleted)
    WHERE perms_state = 'ok' AND deleted = 0;
    """)


@MIGRATIONS()
def m009_item_holders(db: Database) -> None:
    # A search past RANK_CAP matches walks tens of thousands of them newest first, reading each
    # one's items row only for its ACL holder: about 1.2 us a match at a million items. This
    # narrow copy (item rowid -> holder rowid; NULL when the item is deleted or its holder is
    # not indexed: visible to nobody), kept by triggers, answers in about 0.4 us.
    db.executescript(f"""
    CREATE TABLE IF NOT EXISTS item_holders (
      item_rowid INTEGER PRIMARY KEY,
      holder_rowid INTEGER
    );
    INSERT OR REPLACE INTO item_holders (item_rowid, holder_rowid)
      SELECT i.rowid, CASE WHEN i.deleted = 0 THEN h.rowid END
      FROM items AS i
      LEFT JOIN items AS h ON h.drive_id = i.drive_id AND h.item_id = i.acl_item_id;
    CREATE TRIGGER IF NOT EXISTS item_holders_ai AFTER INSERT ON items BEGIN
      INSERT OR REPLACE INTO item_holders (item_rowid, holder_rowid)
      VALUES (new.rowid, {_HOLDER_OF_NEW});
      -- items indexed before their holder
      UPDATE item_holders SET holder_rowid = new.rowid WHERE item_rowid IN (
        SELECT rowid FROM items
        WHERE drive_id = new.drive_id AND acl_item_id = new.item_id AND deleted = 0);
    END;
    CREATE TRIGGER IF NOT EXISTS item_holders_au AFTER UPDATE OF acl_item_id, deleted ON items
    WHEN old.acl_item_id IS NOT new.acl_item_id OR old.deleted IS NOT new.deleted BEGIN
      UPDATE item_holders SET holder_rowid = {_HOLDER_OF_NEW} WHERE item_rowid = new.rowid;
    END;
    CREATE TRIGGER IF NOT EXISTS item_holders_ad AFTER DELETE ON items BEGIN
      DELETE FROM item_holders WHERE item_rowid = old.rowid;
      UPDATE item_holders SET holder_rowid = NULL WHERE item_rowid IN (
        SELECT rowid FROM items WHERE drive_id = old.drive_id AND acl_item_id = old.item_id);
    END;
    """)


_HOLDER_OF_NEW = """CASE WHEN new.deleted = 0 THEN (
        SELECT rowid FROM items WHERE drive_id = new.drive_id AND item_id = new.acl_item_id) END"""


@MIGRATIONS()
def m010_run_permission_failures(db: Database) -> None:
    # A run records how many items' permissions it could not read (503/504, resets past every
    # retry): those items are left 'failed', hidden to everyone, while the rest of their page
    # is applied, so one unreadable item no longer holds back its library's other changes.
    db.executescript("ALTER TABLE runs ADD COLUMN permission_failures INTEGER NOT NULL DEFAULT 0;")


@MIGRATIONS()
def m011_writeback(db: Database) -> None:
    # Opt-in per documents job: the web app's write-back worker writes discussion counts into
    # the libraries of the jobs that have it on (overlay_app/writeback).
    db.executescript("ALTER TABLE jobs ADD COLUMN write_back INTEGER NOT NULL DEFAULT 0;")


@MIGRATIONS()
def m012_subscriptions(db: Database) -> None:
    # Graph change notifications (sync/subscriptions.py): one subscription per synced library,
    # its clientState secret, the notifications the web app queued (the scheduler drains them),
    # what the scheduler last decided (subscribed, or polling and why), and the connector's
    # resource-unit figures per process for the admin console.
    db.executescript("""
    CREATE TABLE subscriptions (
        drive_id TEXT PRIMARY KEY, subscription_id TEXT NOT NULL UNIQUE,
        client_state TEXT NOT NULL, notification_url TEXT NOT NULL,
        expires_at TEXT NOT NULL, created_at TEXT NOT NULL, renewed_at TEXT
    );
    CREATE TABLE change_notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id TEXT NOT NULL,
        drive_id TEXT NOT NULL, kind TEXT NOT NULL, received_at TEXT NOT NULL
    );
    CREATE TABLE freshness_state (
        name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    """)


@MIGRATIONS()
def m013_photos(db: Database) -> None:
    # Profile photos, kept with the person so pages show faces without asking Graph per view.
    # people.photo_etag is the photo's @odata.mediaEtag as the last profile batch saw it;
    # photos.etag is the one whose bytes are stored: where they differ, the photo is fetched.
    db.executescript("""
    ALTER TABLE people ADD COLUMN photo_etag TEXT;
    CREATE TABLE photos (
        person_id TEXT PRIMARY KEY, etag TEXT NOT NULL, content_type TEXT NOT NULL,
        data BLOB NOT NULL, fetched_at TEXT NOT NULL
    );
    """)
