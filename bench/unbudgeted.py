"""Settings that take SharePoint's resource-unit budget out of a throughput benchmark.

The emulator charges every app 1,200 resource units a minute by default and answers 429 past
them; the connector paces itself to 80% of `PLAZA_GRAPH_BUDGET_PER_MINUTE` (1,200 unless set).
A benchmark of raw sync or paging throughput measures neither: it serves the tenant with
`--budget-per-minute 0` (or `budget_per_minute=None` in process) and gives the connector
`PLAZA_GRAPH_BUDGET_PER_MINUTE=0` (count units, never wait). bench/freshness.py is the one
benchmark that keeps the budget on: what it measures is freshness within it.
"""

from __future__ import annotations

EMULATOR_ARGS = ("--budget-per-minute", "0")  # `plaza emulator serve`: unlimited
IN_PROCESS = {"budget_per_minute": None}  # connector.emulator.server.start(...): unlimited
CONNECTOR_ENV = {"PLAZA_GRAPH_BUDGET_PER_MINUTE": "0"}  # the connector counts, never paces
