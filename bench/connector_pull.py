"""How fast four Graph clients pull and parse one library's full delta round from the emulator.

Run: .venv/bin/python bench/connector_pull.py [--quick] [--runs N]
(msgraph-sdk comes with the optional `bench` extra: .venv/bin/pip install -e '.[bench]').

The emulator runs as a subprocess (`plaza emulator serve`), so this process's CPU time is the
clients' own work. Every client asks the same: the largest library's delta with the connector's
`$select` and sharing `Prefer` headers, pages of 200, every nextLink followed to the deltaLink,
each item parsed into the client's own objects: bare requests + json dicts (the baseline);
Plaza's GraphSource.drive_changes() (frozen DriveItem dataclasses, page by page);
office365-rest-python-client's GraphClient delta `get_all()`; msgraph-sdk's typed models (async
httpx; too slow for a whole round in the time budget, so it pulls the first pages only).

items/s: wall clock, median of the runs; CPU us/item: this process's CPU time per item (1e6 / it
is the rate against an instant server); the connector's tracemalloc peak on two library sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from sync_initial import Emulator, app_session, start_emulator, trusting_session

from connector.auth import TokenProvider
from connector.emulator.tenant import Tenant
from connector.graph import DELTA_PREFER, ITEM_SELECT, GraphSource
from connector.settings import ConnectorSettings

SEED = 1
# Tenant sizes (documents) whose largest library holds about 20,000 items (quick) and 33,600
# (full); each tenant also has libraries a quarter that size, for the memory comparison.
QUICK_SIZE, FULL_SIZE = 800_000, 4_000_000
MSGRAPH_ITEMS = {True: 600, False: 4_000}  # msgraph-sdk pulls only this many (see above)
TARGET = 0.80  # the connector must reach 80% of the bare loop's rate
COMPARED = ("bare requests + json", "Plaza connector")


@dataclass(frozen=True)
class Pull:
    items: int
    seconds: float
    cpu_seconds: float
    delta_link_kept: bool  # the round ended with a deltaLink the client hands back


@dataclass
class Result:
    name: str
    pulls: list[Pull] = field(default_factory=list)
    problem: str | None = None  # why this client could not be measured

    @property
    def rate(self) -> float:
        return statistics.median(p.items / p.seconds for p in self.pulls)

    @property
    def cpu_us(self) -> float:
        return statistics.median(p.cpu_seconds / p.items * 1e6 for p in self.pulls)


@dataclass(frozen=True)
class Runs:
    compared: int  # for the bare loop and the connector, whose ratio has a target
    others: int


def libraries_by_size(size: int) -> list[tuple[int, str]]:
    """(items, drive id) of every document library, largest first.

    The generator is deterministic, so the same (seed, size) tells, without a pull, how many
    items each library of the served tenant holds (root included, as delta returns it).
    """
    tenant = Tenant(SEED, size)
    found = [(s.drive.base_count, s.drive.id) for s in tenant.drives.values() if not s.drive.system]
    return sorted(found, reverse=True)


class BareLoop:
    """requests + json + nextLink: the least any Python client can do."""

    name = COMPARED[0]

    def __init__(self, emulator: Emulator) -> None:
        info = emulator.info
        self.graph_url = info["graph_url"]
        self.session = app_session(info)
        self.session.headers["Prefer"] = DELTA_PREFER

    def warm_up(self, drive_id: str) -> None:
        self.session.get(f"{self.graph_url}/drives/{drive_id}", timeout=60).raise_for_status()

    def pull(self, drive_id: str) -> Pull:
        began, cpu = time.perf_counter(), time.process_time()
        url: str | None = f"{self.graph_url}/drives/{drive_id}/root/delta"
        params: dict | None = {"$select": ITEM_SELECT}
        items, delta_link = 0, None
        while url:
            page = self.session.get(url, params=params, timeout=60).json()
            params = None
            items += len(page["value"])
            url, delta_link = page.get("@odata.nextLink"), page.get("@odata.deltaLink")
        return finish(items, began, cpu, delta_link is not None)


class Connector:
    """Plaza's GraphSource, built from the settings the emulator wrote (--env-file)."""

    name = COMPARED[1]

    def __init__(self, emulator: Emulator) -> None:
        self.source = GraphSource.from_settings(ConnectorSettings.from_env(emulator.env))

    def warm_up(self, drive_id: str) -> None:
        self.source.drive(drive_id)

    def pull(self, drive_id: str) -> Pull:
        began, cpu = time.perf_counter(), time.process_time()
        items, last = 0, None
        for page in self.source.drive_changes(drive_id):
            items += len(page.items) + len(page.deleted_ids)
            last = page
        return finish(items, began, cpu, last is not None and last.delta_link is not None)


class Office365:
    """office365-rest-python-client's GraphClient. Its Graph root is hard-coded: patch its
    endpoint table (PROTOCOL.md 6.3); its own MSAL set-up cannot use a non-Microsoft authority,
    so tokens come from the connector's MSAL app through token_callback."""

    name = "office365 GraphClient"

    def __init__(self, emulator: Emulator) -> None:
        from office365 import azure_env
        from office365.graph_client import GraphClient

        root = emulator.info["graph_url"].removesuffix("/v1.0")
        azure_env._ENDPOINTS[azure_env.AzureEnvironment.Global]["graph"] = root
        tokens = TokenProvider(ConnectorSettings.from_env(emulator.env))
        self.client = GraphClient(
            token_callback=lambda: {"tokenType": "Bearer", "accessToken": tokens.token()}
        )
        self.client.with_transport(session=trusting_session(emulator.info["ca_file"]))

        def prefer(request) -> None:
            request.headers["Prefer"] = DELTA_PREFER

        self.client.pending_request().before_execute(prefer, once=False)

    def warm_up(self, drive_id: str) -> None:
        self.client.drives[drive_id].get().execute_query()

    def pull(self, drive_id: str) -> Pull:
        began, cpu = time.perf_counter(), time.process_time()
        delta = self.client.drives[drive_id].root.delta
        changes = delta.select(ITEM_SELECT.split(",")).get_all().execute_query()
        kept = getattr(changes, "delta_token", None) is not None
        return finish(len(changes), began, cpu, kept)


class MsGraphSdk:
    """Microsoft's msgraph-sdk with its base URL and an httpx client trusting the emulator CA."""

    name = "msgraph-sdk"

    def __init__(self, emulator: Emulator, limit: int) -> None:
        import httpx
        from kiota_abstractions import authentication as kiota
        from msgraph import GraphRequestAdapter, GraphServiceClient
        from msgraph_core import GraphClientFactory

        tokens = TokenProvider(ConnectorSettings.from_env(emulator.env))

        class ConnectorTokens(kiota.AccessTokenProvider):
            async def get_authorization_token(self, uri, additional_authentication_context=None):
                return tokens.token()

            def get_allowed_hosts_validator(self):
                return kiota.AllowedHostsValidator(["localhost"])

        tls = ssl.create_default_context(cafile=emulator.info["ca_file"])
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(verify=tls, trust_env=False, timeout=60)
        )
        auth = kiota.BaseBearerTokenAuthenticationProvider(ConnectorTokens())
        adapter = GraphRequestAdapter(auth, http)
        adapter.base_url = emulator.info["graph_url"]
        self.client = GraphServiceClient(request_adapter=adapter)
        self.limit = limit
        self.name = f"msgraph-sdk (first {limit:,})"
        self.loop = asyncio.new_event_loop()

    def warm_up(self, drive_id: str) -> None:
        self.loop.run_until_complete(self.client.drives.by_drive_id(drive_id).get())

    def pull(self, drive_id: str) -> Pull:
        return self.loop.run_until_complete(self._pull(drive_id))

    async def _pull(self, drive_id: str) -> Pull:
        from kiota_abstractions.base_request_configuration import RequestConfiguration

        began, cpu = time.perf_counter(), time.process_time()
        # The SDK's generated path for a drive's delta is /drives/{id}/items/root/delta().
        delta = self.client.drives.by_drive_id(drive_id).items.by_drive_item_id("root").delta
        query = delta.DeltaRequestBuilderGetQueryParameters(select=ITEM_SELECT.split(","))
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("Prefer", DELTA_PREFER)
        page = await delta.get(config)
        items = 0
        while page is not None:
            items += len(page.value or ())
            if not page.odata_next_link or items >= self.limit:
                break
            page = await delta.with_url(page.odata_next_link).get(config)
        kept = page is not None and page.odata_delta_link is not None
        return finish(items, began, cpu, kept)


def finish(items: int, began: float, cpu: float, kept: bool) -> Pull:
    return Pull(items, time.perf_counter() - began, time.process_time() - cpu, kept)


def build_clients(emulator: Emulator, quick: bool) -> list[tuple[object | None, Result]]:
    """Each client with its result; a client that cannot be built carries the reason."""
    built: list[tuple[object | None, Result]] = []
    for kind in (BareLoop, Connector, Office365, MsGraphSdk):
        try:
            client = kind(emulator, MSGRAPH_ITEMS[quick]) if kind is MsGraphSdk else kind(emulator)
            built.append((client, Result(client.name)))
        except ImportError as exc:
            hint = "install the bench extra: .venv/bin/pip install -e '.[bench]'"
            built.append((None, Result(kind.name, problem=f"{exc.name} is missing ({hint})")))
        except Exception as exc:  # report, never fake a number
            built.append((None, Result(kind.name, problem=f"{type(exc).__name__}: {exc}")))
    return built


def measure(clients: list[tuple[object | None, Result]], drive_id: str, runs: Runs) -> None:
    """Runs are interleaved (bare, connector, ... then again) so drift hits every client."""
    for round_ in range(-1, max(runs.compared, runs.others)):  # round -1 warms up
        for client, result in clients:
            wanted = runs.compared if result.name in COMPARED else runs.others
            if client is None or result.problem or round_ >= wanted:
                continue
            try:
                if round_ < 0:
                    client.warm_up(drive_id)  # token, TLS, discovery: not part of the pull
                else:
                    result.pulls.append(client.pull(drive_id))
            except Exception as exc:  # report, never fake a number
                result.problem = f"{type(exc).__name__}: {exc}"


def connector_peak(connector: Connector, drive_id: str) -> tuple[int, int]:
    """(items, peak bytes allocated above the starting point) for one full delta round."""
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        items = connector.pull(drive_id).items
        return items, tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()


def report(results: list[Result], largest: int, runs: Runs) -> None:
    bare = next((r for r in results if r.name == BareLoop.name and r.pulls), None)
    print(f"\ndelta of one library ({largest:,} items, pages of 200); median of {runs.compared} "
          f"run(s) for the first two clients, {runs.others} for the others:\n")  # fmt: skip
    print("| client | items | items/s | vs bare | CPU us/item | CPU-bound items/s | deltaLink |")
    print("|---|---:|---:|---:|---:|---:|---|")
    notes = []
    for result in results:
        if not result.pulls:
            print(f"| {result.name} | - | - | - | - | - | - |")
            notes.append(f"{result.name} cannot run against the emulator: {result.problem}")
            continue
        last = result.pulls[-1]
        ratio = f"{result.rate / bare.rate:.0%}" if bare else "-"
        kept = "kept" if last.delta_link_kept else "lost"
        if last.items < largest:
            kept = "(not reached)"
            notes.append(f"{result.name} pulled the first {last.items:,} items only: a whole "
                         f"round would take about {largest / result.rate:,.0f} s")  # fmt: skip
        print(f"| {result.name} | {last.items:,} | {result.rate:,.0f} | {ratio} "
              f"| {result.cpu_us:,.0f} | {1e6 / result.cpu_us:,.0f} | {kept} |")  # fmt: skip
        if result.problem:
            notes.append(f"{result.name} failed in a later run: {result.problem}")
    for note in notes:
        print(f"\n- {note}")


def report_memory(peaks: list[tuple[int, int]], results: list[Result]) -> None:
    print("\nconnector peak memory (tracemalloc, above the start) during a full delta round:\n")
    for items, peak in peaks:
        print(f"  {items:>7,} items: {peak / 1024:,.0f} KiB")
    (few, low), (many, high) = peaks
    print(f"  {many / few:.1f}x the items -> {high / low:.2f}x the peak")
    rates = {r.name: r.rate for r in results if r.pulls}
    if set(COMPARED) <= rates.keys():
        ratio = rates[COMPARED[1]] / rates[COMPARED[0]]
        print(f"\ntarget connector >= {TARGET:.0%} of bare: {ratio:.0%} "
              f"({'met' if ratio >= TARGET else 'NOT met'})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller library, fewer runs")
    parser.add_argument("--runs", type=int, help="runs per client (default: 3; with --quick "
                        "3 for the bare loop and the connector, 1 for the others)")  # fmt: skip
    args = parser.parse_args()
    size = QUICK_SIZE if args.quick else FULL_SIZE
    runs = Runs(args.runs or 3, args.runs or (1 if args.quick else 3))
    libraries = libraries_by_size(size)
    largest, drive_id = libraries[0]
    small_id = next(i for n, i in libraries if n <= largest // 4)
    began = time.perf_counter()
    print(f"{time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"emulator size {size:,}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="plaza-bench-") as scratch:
        emulator = start_emulator(size, Path(scratch), SEED)
        try:
            clients = build_clients(emulator, args.quick)
            measure(clients, drive_id, runs)
            results = [result for _, result in clients]
            report(results, largest, runs)
            connector = next((c for c, _ in clients if isinstance(c, Connector)), None)
            if connector is not None:
                peaks = [connector_peak(connector, i) for i in (small_id, drive_id)]
                report_memory(peaks, results)
        finally:
            emulator.stop()
    # Other work on the machine slows the server and the clients alike: compare ratios.
    print(f"\n(total {time.perf_counter() - began:.0f} s, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
