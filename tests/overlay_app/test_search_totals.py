"""Past sync's rank cap (10,000 visible name matches) a search's total is a lower bound, and the
API and the page say so instead of announcing a number they cannot stand behind."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from sync.search import RANK_CAP
from tests.overlay_app.conftest import sign_in

FILES = RANK_CAP + 5  # items whose name holds "walrus"
FOLDERS = 20


def test_more_than_ten_thousand_name_matches_give_a_lower_bound(
    fresh_plaza_env, make_app: Callable[..., Flask], people: dict[str, str], document, api
) -> None:
    tenant = fresh_plaza_env.handle.tenant
    drive_id, _ = document
    author_upn = people["author"]
    folders = [
        tenant.add_item(drive_id, tenant.root(drive_id).id, f"Walrus {n}", True, author_upn)
        for n in range(FOLDERS)
    ]
    for n in range(FILES - FOLDERS):  # folders kept small: each new name is checked in it
        parent = folders[n % FOLDERS].id
        tenant.add_item(drive_id, parent, f"Walrus memo {n}.txt", False, author_upn)
    fresh_plaza_env.sync(fresh_plaza_env.data_dir, people=False)
    app = make_app(env=fresh_plaza_env)
    author = api(people["author"], app)

    found = author.get("/api/v1/search?q=walrus").json
    assert (found["total"], found["totalIsExact"]) == (RANK_CAP + 1, False)
    assert len(found["value"]) == 20
    narrowed = author.get("/api/v1/search?q=walrus+memo+17").json
    assert narrowed["totalIsExact"] is True

    client = app.test_client()
    sign_in(client, people["author"])
    page = client.get("/search?q=walrus").get_data(as_text=True)
    assert "More than 10,000 results: add words to narrow them" in page
