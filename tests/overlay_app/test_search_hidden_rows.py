"""No figure or order a person receives may depend on rows they cannot see: every search answer
a reader gets (document search and chat search, every page, byte for byte) stays the same when
hidden documents, comments and chat messages holding the same words are written.

Under bm25, a hidden row holding a word changed the word's weight (its corpus-wide frequency)
and so the scores and the order of the reader's own hits; the last word matching as a prefix,
anyone able to comment could read hidden words back a letter at a time.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.overlay_app.api_calls import answer, document_room, posted, sent
from tests.overlay_app.conftest import PlazaEnv, resync

WORD = "zephyr"
QUERIES = [WORD, "zep", "zephyr pl", "zephyr plan", "plan"]
HIDDEN_NAMES = ["Zephyr plan.docx", "Zephyr zephyr.docx", "Zephyrus plans.docx", "Plan.docx"]


def add_document(env: PlazaEnv, document, name: str, upns: list[str]) -> tuple[str, str]:
    """A new file beside `document` that only `upns` can open (in the emulator)."""
    tenant = env.tenant
    drive_id, item_id = document
    parent = tenant.item(drive_id, item_id).parent_id
    item = tenant.add_item(drive_id, parent, name, False, upns[0])
    grants = [{"principal": {"kind": "user", "id": upn}, "roles": ["write"]} for upn in upns]
    env.control("POST", f"/items/{drive_id}/{item.id}/permissions/break", {"grants": grants})
    return drive_id, item.id


def search_answers(reader) -> list[bytes]:
    """Every page of every query's document search, and its chat search, as the bytes sent."""
    answers = []
    for query in QUERIES:
        page = 1
        while True:
            response = reader.get(f"/api/v1/search?q={query}&page={page}")
            answers.append(response.get_data())
            if not answer(response)["value"]:
                break
            page += 1
        answers.append(reader.get(f"/api/v1/chat/search?q={query}").get_data())
    return answers


def test_hidden_rows_holding_the_words_change_no_answer(
    fresh_plaza_env: PlazaEnv, make_app: Callable[..., Flask], people, api
) -> None:
    env, document = fresh_plaza_env, fresh_plaza_env.document
    both = [people["author"], people["reader"]]
    seen = [add_document(env, document, name, both) for name in ("Zephyr plan.docx", "Plans.docx")]
    env.sync(env.data_dir, people=False)
    app = make_app(env=env, writes_per_minute=10_000, searches_per_minute=10_000)
    author, reader = api(people["author"], app), api(people["reader"], app)
    for key, body in zip(
        [document, *seen], ["Zephyr first", "zephyr, zephyr", "The plan"], strict=True
    ):
        posted(author, key, body)
    room = document_room(author, document)
    for body in ("Zephyr again", "A zephyrus plan", "planning"):
        sent(author, room["id"], body)
    before = search_answers(reader)
    assert sum(b'"itemId"' in found for found in before) >= 5  # the reader finds things

    hidden = [
        add_document(env, document, f"{n} {name}", [people["author"]])
        for n in range(5)
        for name in HIDDEN_NAMES
    ]
    resync(app, people=False, documents=True)
    for key in hidden[:8]:
        posted(author, key, "Zephyr zephyr plan, zephyrus plans")
    hidden_room = document_room(author, hidden[0])
    outsider = answer(api(people["outsider"], app).get("/api/v1/me"))
    with_outsider = {"kind": "direct", "members": [outsider["id"]]}
    direct = answer(author.post("/api/v1/rooms", json=with_outsider), 201)
    for room_id in (hidden_room["id"], direct["id"]):
        for body in ("Zephyr zephyr", "zephyrus plan", "plans"):
            sent(author, room_id, body)

    assert search_answers(reader) == before
    # The author, who sees the hidden rows, does find them.
    # The author finds the two the reader finds, and 17 hidden from the reader (by name, or
    # by comment for two named Plan).
    assert answer(author.get("/api/v1/search?q=zephyr"))["total"] == 19
