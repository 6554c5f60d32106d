"""bench/pg_search.py at a tiny size: both stores get the same generated rows and answer each
search the benchmark times with the same hits, so its PostgreSQL / SQLite ratios compare like
with like. Nothing is timed here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.overlay_app.conftest import copy_sqlite_index

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import pg_cluster  # noqa: E402
import pg_search  # noqa: E402

from overlay_app import db  # noqa: E402
from plaza import local_postgres  # noqa: E402
from sync.db import connect  # noqa: E402


def _postgres_missing() -> str:
    try:
        local_postgres.server_bin_dir()
    except local_postgres.PostgresMissing as missing:
        return str(missing)
    return ""


pytestmark = pytest.mark.skipif(bool(_postgres_missing()), reason=_postgres_missing())


def found(search, result) -> tuple:
    """What a search answered, without its timing-free details: hit keys, order and total."""
    if search == "chat":
        return tuple(message["id"] for message in result), len(result)
    hits, total, exact = result
    return tuple((hit.row.drive_id, hit.row.item_id) for hit in hits), total, exact


def test_both_stores_answer_every_timed_search_alike(
    sqlite_synced_index: Path, tmp_path: Path
) -> None:
    # The benchmark reads an index.db file, whatever the suite's backend: it makes its own
    # cluster and compares the two engines itself.
    index = copy_sqlite_index(sqlite_synced_index, tmp_path / "index")
    corpus = pg_search.generate(index, 300, 300)
    assert (len(corpus.comments), len(corpus.messages)) == (300, 300)
    pg_search.fill_sqlite(tmp_path / "sqlite" / "overlay.db", corpus)
    with pg_cluster.throwaway_cluster() as cluster:
        assert cluster.settings()["fsync"] == "on"
        assert cluster.settings()["synchronous_commit"] == "on"
        url = cluster.new_database()
        pg_cluster.index_into(url, index)  # where the index lives in PostgreSQL too
        pg_search.fill_postgres(url, corpus)
        apps = {
            "sqlite": pg_search.app_for(tmp_path / "sqlite", index),
            "postgres": pg_search.app_for(tmp_path / "pg", index, url),
        }
        index_db = connect(index, readonly=True)
        people = pg_search.pick_people(index_db)
        index_db.close()
        answered = 0
        try:
            for _kind, text, _held in pg_search.pick_words(corpus):
                for _label, person_id, _seen in people:
                    person = pg_search.person_of(index, person_id)
                    for search in pg_search.searches(person, text):
                        results = {}
                        for backend, app in apps.items():
                            with app.test_request_context():
                                results[backend] = found(
                                    search, pg_search.searches(person, text)[search]()
                                )
                        assert results["postgres"] == results["sqlite"], (search, text)
                        answered += bool(results["sqlite"][0])
        finally:
            for app in apps.values():
                db.close(app)
    assert answered > 0  # some search found something, so the comparison is not vacuous


def test_document_search_says_it_waits_for_the_index_on_postgresql() -> None:
    with pytest.raises(SystemExit) as stopped:
        sys.argv = ["pg_search.py", "--document-search"]
        pg_search.main()
    assert stopped.value.code == pg_search.DOCUMENT_SEARCH_MISSING
