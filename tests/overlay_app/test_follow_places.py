"""Follow and levels for the places issue 15 names that other tests leave out: a site (its
libraries' conversations come into the feed, trimmed; an unknown site is refused like a missing
one), a muted channel (nothing from it, except a mention of the person by name), and the feed's
"in your practice" reason."""

from __future__ import annotations

from overlay_app import db
from tests.overlay_app.api_calls import NOT_FOUND, answer, mention, posted, sent
from tests.overlay_app.app_rows import who


def follow(api, kind: str, target: str, status: int = 200):
    return answer(api.put("/api/v1/follows", json={"kind": kind, "target": target}), status)


def kinds(api) -> list[str]:
    return [n["kind"] for n in answer(api.get("/api/v1/notifications"))["notifications"]]


def set_level(api, kind: str, target: str, level: str) -> None:
    answer(api.put("/api/v1/levels", json={"kind": kind, "target": target, "level": level}))


def site_of(app, document) -> str:
    with app.app_context():
        row = db.index().execute(
            "SELECT site_id FROM items WHERE drive_id = ? AND item_id = ?", list(document)
        )
        return row.fetchone()[0]


def test_a_followed_site_brings_its_libraries_conversations(app, api, people, document):
    author, reader, outsider = (api(people[r]) for r in ("author", "reader", "outsider"))
    site_id = site_of(app, document)
    posted(author, document, "Somewhere on the site")
    followed = follow(reader, "site", site_id)
    assert (followed["kind"], followed["target"], followed["url"]) == (
        "site", site_id, f"/sites/{site_id}"
    )  # fmt: skip
    [entry] = answer(reader.get("/api/v1/feed"))["entries"]
    assert entry["excerpt"] == "Somewhere on the site"
    assert "In a site you follow" in entry["why"]
    listed = answer(reader.get("/api/v1/follows"))["follows"]
    assert [(f["kind"], f["target"]) for f in listed] == [("site", site_id)]
    # A site nobody knows is refused exactly like a missing document.
    assert follow(outsider, "site", "no-such-site", 404) == NOT_FOUND
    # The outsider sees the site (other files in it), so may follow it: the document they
    # cannot open still never reaches their feed.
    follow(outsider, "site", site_id)
    assert answer(outsider.get("/api/v1/feed")) == {"entries": [], "nextCursor": None}


def test_a_muted_channel_tells_nothing_but_a_mention(app, api, people):
    author, reader = api(people["author"]), api(people["reader"])
    room = answer(author.post("/api/v1/rooms", json={"kind": "channel", "name": "quiet"}), 201)
    set_level(reader, "channel", room["id"], "watching")
    sent(author, room["id"], "While watching")
    assert kinds(reader) == ["watched"]
    set_level(reader, "channel", room["id"], "muted")
    sent(author, room["id"], "While muted")
    assert kinds(reader) == ["watched"]
    sent(author, room["id"], f"{mention(who(app, people['reader']))} called by name")
    assert kinds(reader) == ["mention", "watched"]
    set_level(reader, "channel", room["id"], "default")
    sent(author, room["id"], "Back to the default")
    assert kinds(reader) == ["mention", "watched"]  # participating: a channel message is no reply


def test_a_conversation_of_someone_in_ones_practice_says_so(app, api, people, plaza_env):
    """Someone of the reader's department (not on their team) discusses a file the reader can
    open: it reaches the reader's feed, saying why."""
    from sync import directory

    reader_id = who(app, people["reader"])["id"]
    with app.app_context():
        team, practice = directory.colleagues(db.index(), reader_id, 30)
    tenant = plaza_env.tenant
    for person_id in practice:
        if person_id in team:
            continue
        user = tenant.users[person_id]
        shared = next(
            (
                key
                for key in tenant.visible_items(person_id)
                if not tenant.item(*key).folder and tenant.can_open(reader_id, *key)
            ),
            None,
        )
        if shared is not None:
            break
    else:
        raise AssertionError("nobody of the reader's practice shares a file with them")
    posted(api(user.user_principal_name), shared, "From the practice")
    [entry] = answer(api(people["reader"]).get("/api/v1/feed"))["entries"]
    assert (entry["excerpt"], entry["why"]) == (
        "From the practice", [f"{user.display_name} in your practice took part"]
    )  # fmt: skip
