"""`plaza realtime`'s gevent workers and psycopg: a query waits cooperatively, so the other
greenlets of the worker (every other open event stream) go on while it runs, even though
gunicorn's master imported psycopg before gevent patched the standard library."""

from __future__ import annotations

import subprocess
import sys

# The order of a gevent worker's life: psycopg imported first (the master), then gevent's
# patching and Plaza's fix-up (the worker), then a slow query beside a greenlet that ticks.
WORKER = """
import sys
import psycopg
from gevent import monkey
monkey.patch_all()
import gevent
from overlay_app.realtime.serve import cooperative_psycopg
if sys.argv[2] == "fixed":
    cooperative_psycopg()
seen = []
def query():
    with psycopg.connect(sys.argv[1]) as conn:
        seen.append("query started")
        conn.execute("SELECT pg_sleep(0.5)")
        seen.append("query ended")
def tick():
    while "query ended" not in seen:
        seen.append("tick")
        gevent.sleep(0.02)
gevent.joinall([gevent.spawn(query), gevent.spawn(tick)])
during = seen[seen.index("query started"):seen.index("query ended")]
print(during.count("tick") > 0)
"""


def ticks_during_query(url: str, mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, url, mode], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_other_greenlets_run_while_a_query_waits(postgres_url: str) -> None:
    assert ticks_during_query(postgres_url, "fixed") == "True"


def test_without_the_fix_the_worker_would_block(postgres_url: str) -> None:
    """What the fix is for: psycopg's C wait holds the whole worker for the query."""
    assert ticks_during_query(postgres_url, "as imported") == "False"
