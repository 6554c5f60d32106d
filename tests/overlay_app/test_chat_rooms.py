"""Channels and direct rooms through HTTP: who creates them, joining, owners adding and
removing people, fixed members of direct rooms, and mentions in channels. Exact values."""

from __future__ import annotations

from typing import Any

from tests.overlay_app.api_calls import answer, mention, send, sent
from tests.overlay_app.app_rows import events, rows, who

# -- helpers of this module (shared ones: app_rows.py, api_calls.py) -----------------------------


def channel(api, name: str, **fields: Any) -> dict[str, Any]:
    return answer(api.post("/api/v1/rooms", json={"kind": "channel", "name": name, **fields}), 201)


def test_channel_mentions_name_the_channel_and_only_reach_its_members(
    app, api, people, client, sign_in
):
    author, reader = api(people["author"]), api(people["reader"])
    me, other = who(app, people["author"]), who(app, people["reader"])
    closed = channel(author, "Deal team", closed=True)
    refused = send(author, closed["id"], f"{mention(other)} join us")
    assert answer(refused, 400)["error"]["message"] == (
        f"{other['displayName']} is not in here, so they cannot be mentioned"
    )
    answer(author.post(f"/api/v1/rooms/{closed['id']}/members", json={"person_id": other["id"]}))
    message = sent(author, closed["id"], f"{mention(other)} welcome")
    [notification] = answer(reader.get("/api/v1/notifications"))["notifications"]
    assert (notification["document"], notification["url"], notification["excerpt"]) == (
        None,
        f"/chat/{closed['id']}#message-{message['id']}",
        f"@{other['displayName']} welcome",
    )
    assert notification["actor"] == me
    sign_in(client, people["reader"])
    page = client.get("/notifications").get_data(as_text=True)
    assert (
        f'<a href="/chat/{closed["id"]}#message-{message["id"]}">'
        f"{me['displayName']} mentioned you in #Deal team</a>"
    ) in page
    # Removed from the channel, the reader no longer sees the notification about it.
    gone = author.delete(f"/api/v1/rooms/{closed['id']}/members?person_id={other['id']}")
    assert gone.status_code == 204
    assert answer(reader.get("/api/v1/notifications")) == {"unreadCount": 0, "notifications": []}


# -- channels and direct rooms -------------------------------------------------------------------


def test_channels_are_created_joined_and_managed_by_their_owners(app, api, people):
    author, reader, outsider = (api(people[p]) for p in ("author", "reader", "outsider"))
    me, other = who(app, people["author"]), who(app, people["reader"])
    made = author.post(
        "/api/v1/rooms", json={"kind": "channel", "name": "  Tax   news ", "description": "Rulings"}
    )
    room = answer(made, 201)
    assert {k: room[k] for k in ("kind", "name", "description", "closed", "title", "myRole")} == {
        "kind": "channel",
        "name": "Tax news",
        "description": "Rulings",
        "closed": False,
        "title": "Tax news",
        "myRole": "owner",
    }
    assert room["members"] == [{**me, "role": "owner"}]
    clash = author.post("/api/v1/rooms", json={"kind": "channel", "name": "TAX NEWS"})
    assert answer(clash, 409)["error"]["message"] == "There is already a channel called TAX NEWS."

    joinable = answer(reader.get("/api/v1/rooms"))["openChannels"]
    assert [(r["id"], r["title"]) for r in joinable] == [(room["id"], "Tax news")]
    members = f"/api/v1/rooms/{room['id']}/members"
    joined = answer(reader.post(members, json={"person_id": other["id"]}))
    assert joined["members"] == [{**me, "role": "owner"}, {**other, "role": "member"}]
    assert answer(reader.get("/api/v1/rooms"))["openChannels"] == []
    adding_others = reader.post(members, json={"person_id": who(app, people["outsider"])["id"]})
    assert answer(adding_others, 403)["error"]["message"] == (
        "Only the channel's owners can add people."
    )
    for payload, message in (
        (["x"], 'Send {"person_id": "<object id>"} (and "role": "owner" to promote).'),
        ({}, 'Name the person: {"person_id": "<object id>"}.'),
        ({"person_id": other["id"], "role": "boss"}, '"role" is "member" or "owner".'),
        ({"person_id": "nobody"}, "nobody is not anyone in the directory."),
    ):
        assert answer(author.post(members, json=payload), 400)["error"]["message"] == message
    promote = reader.post(members, json={"person_id": other["id"], "role": "owner"})
    assert (
        answer(promote, 403)["error"]["message"] == "Only the channel's owners can promote people."
    )
    # An open channel can be read and written by anyone in the firm; writing follows it.
    sent(outsider, room["id"], "Hello from outside")
    names = [m["displayName"] for m in answer(author.get(f"/api/v1/rooms/{room['id']}"))["members"]]
    assert names == [
        me["displayName"],
        other["displayName"],
        who(app, people["outsider"])["displayName"],
    ]

    last_owner = author.delete(f"{members}?person_id={me['id']}")
    assert answer(last_owner, 409)["error"]["message"] == (
        "A channel keeps at least one owner: make someone else owner first."
    )
    answer(author.post(members, json={"person_id": other["id"], "role": "owner"}))
    assert author.delete(f"{members}?person_id={me['id']}").status_code == 204  # leaves
    assert author.delete(f"{members}?person_id={me['id']}").status_code == 204  # idempotent
    assert reader.delete(members, json={"person_id": "x"}).status_code == 204  # not a member
    assert answer(reader.delete(members), 400)["error"]["message"] == (
        'Name the person: {"person_id": "<object id>"}.'
    )
    assert rows(app, "SELECT person_id, role FROM room_members ORDER BY joined_at") == [
        (other["id"], "owner"),
        (who(app, people["outsider"])["id"], "member"),
    ]
    kinds = [(kind, room_id is not None, person_id) for kind, room_id, person_id, _ in events(app)]
    assert kinds == [
        ("room.created", True, None),
        ("room.member_added", True, None),  # the reader joins
        ("room.member_added", True, None),  # the outsider writes
        ("message.new", True, None),
        ("room.read", False, who(app, people["outsider"])["id"]),
        ("room.member_added", True, None),  # the reader becomes owner
        ("room.member_removed", True, None),  # the author leaves: those who stay hear it
        ("room.member_removed", False, me["id"]),  # ...and so does the author
    ]


def test_who_may_create_channels_and_what_a_channel_needs(make_app, api, people):
    one_line = "A channel name is 1 to 80 characters on one line."
    nobody = "nobody is not anyone in the directory."
    app = make_app(channels_open=False)
    author, admin, guest = (api(people[p], app) for p in ("author", "admin", "guest"))
    refused = author.post("/api/v1/rooms", json={"kind": "channel", "name": "Mine"})
    assert (
        answer(refused, 403)["error"]["message"] == "Only administrators can create channels here."
    )
    assert answer(admin.post("/api/v1/rooms", json={"kind": "channel", "name": "Firm"}), 201)
    by_guest = guest.post("/api/v1/rooms", json={"kind": "direct", "members": []})
    assert answer(by_guest, 403)["error"]["message"] == (
        "Guests cannot start conversations; ask a member to invite you."
    )
    for payload, message in (
        ([], 'Send a JSON object such as {"kind": "direct", "members": ["<id>"]}.'),
        (
            {"kind": "document"},
            '"kind" must be "channel" or "direct"; a document\'s room opens '
            "with POST /api/v1/documents/{drive_id}/{item_id}/room.",
        ),
        ({"kind": "channel"}, 'A channel needs a "name".'),
        ({"kind": "channel", "name": "a\u0007b"}, one_line),
        ({"kind": "channel", "name": "n" * 81}, one_line),
        (
            {"kind": "channel", "name": "N", "closed": "yes"},
            '"closed" is true (members only) or false (open to the firm).',
        ),
        (
            {"kind": "channel", "name": "N", "description": 5},
            '"description" is text of at most 500 characters.',
        ),
        ({"kind": "channel", "name": "N", "members": ["nobody"]}, nobody),
    ):
        assert answer(admin.post("/api/v1/rooms", json=payload), 400)["error"]["message"] == message
    assert rows(app, "SELECT name FROM rooms") == [("Firm",)]


def test_direct_rooms_have_fixed_members_and_open_once_per_group(app, api, people):
    author, reader, outsider = (api(people[p]) for p in ("author", "reader", "outsider"))
    me, other, third = (who(app, people[p]) for p in ("author", "reader", "outsider"))
    made = author.post("/api/v1/rooms", json={"kind": "direct", "members": [other["id"]]})
    room = answer(made, 201)
    assert (room["title"], room["members"]) == (
        other["displayName"],
        [{**me, "role": "member"}, {**other, "role": "member"}],
    )
    theirs = reader.post("/api/v1/rooms", json={"kind": "direct", "members": [me["id"], me["id"]]})
    assert answer(theirs)["id"] == room["id"]
    assert answer(theirs)["title"] == me["displayName"]
    group = answer(
        author.post(
            "/api/v1/rooms", json={"kind": "direct", "members": [other["id"], third["id"]]}
        ),
        201,
    )
    assert group["id"] != room["id"]
    fixed = author.post(f"/api/v1/rooms/{room['id']}/members", json={"person_id": third["id"]})
    assert answer(fixed, 409)["error"]["message"] == (
        "The people of a direct conversation are fixed; start a new one instead."
    )
    assert (
        author.delete(f"/api/v1/rooms/{room['id']}/members?person_id={me['id']}").status_code == 409
    )
    for members, message in (
        ([], "A direct conversation is between 2 and 8 people."),
        ([me["id"]], "A direct conversation is between 2 and 8 people."),
        ([f"p{n}" for n in range(9)], '"members" can name at most 8 people.'),
        ("x", '"members" must be a list of people\'s object ids.'),
    ):
        refused = author.post("/api/v1/rooms", json={"kind": "direct", "members": members})
        assert answer(refused, 400)["error"]["message"] == message
    sent(outsider, group["id"], "hi both")
    assert answer(author.get("/api/v1/rooms"))["rooms"][0]["unreadCount"] == 1
