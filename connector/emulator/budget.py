"""SharePoint's resource-unit budget per app: RateLimit headers near the limit, 429 beyond it.

SharePoint Online (which serves Graph's sites, drives and items) charges each call resource
units (PROTOCOL 3.2): 1 for one item or a delta page with a token, 2 for a listing or a delta
page without one, 5 for any permissions call; `$batch` requests are charged one by one. An app
may spend a budget per minute that grows with the tenant's licences (1,200 for up to 1,000).
From 80% of it every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds until the window frees); once spent, calls answer 429 with a whole
second `Retry-After` and the same headers, until enough of the last minute's units expire.

Graph file routes already stamp their cost as `x-ms-resource-unit`; the budget charges that
after the route ran. SharePoint REST has "no fixed cost" and costs more: REST_COST here.
Directory routes (users, groups) have their own token bucket and are not charged.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, g, jsonify, request

from connector.emulator import faults, tokens

DEFAULT_PER_MINUTE = 1_200  # the 0-1,000 licence tier
WINDOW = 60.0
WARN_SHARE = 0.8  # RateLimit-* headers from this share of the budget on
REST_COST = 2  # SharePoint REST: "no fixed cost", more than Graph's; an emulator choice
CHARGED_BLUEPRINTS = frozenset({"graph_files", "graph_owner_drives", "sharepoint"})


@dataclass
class AppUsage:
    """One app's spending: the last minute's charges, and totals since start (for benches and
    tests: `peak_window_units` is the most the app ever had in one window, charged)."""

    charges: deque[tuple[float, int]]
    total_units: int = 0
    total_requests: int = 0
    throttled: int = 0
    peak_window_units: int = 0


class ResourceBudget:
    """Per-app sliding one-minute window of resource units; `per_minute` None = unlimited."""

    def __init__(
        self,
        per_minute: int | None = DEFAULT_PER_MINUTE,
        clock: Callable[[], float] = time.time,
        window: float = WINDOW,
    ) -> None:
        self.per_minute = per_minute
        self.window = window  # a minute at Microsoft; tests may shorten it
        self._clock = clock
        self._apps: dict[str, AppUsage] = {}
        self._lock = threading.Lock()

    def _usage(self, app_id: str) -> AppUsage:
        usage = self._apps.get(app_id)
        if usage is None:
            usage = self._apps[app_id] = AppUsage(deque())
        now = self._clock()
        while usage.charges and now - usage.charges[0][0] >= self.window:
            usage.charges.popleft()
        return usage

    def used(self, app_id: str) -> int:
        with self._lock:
            return sum(units for _, units in self._usage(app_id).charges)

    def refuse(self, app_id: str) -> int | None:
        """Whole seconds to wait if the app's budget is spent (counted as a 429), else None."""
        if not self.per_minute:
            return None
        with self._lock:
            usage = self._usage(app_id)
            spent = sum(units for _, units in usage.charges)
            if spent < self.per_minute:
                return None
            usage.throttled += 1
            return max(1, math.ceil(self._seconds_until(usage, spent - self.per_minute + 1)))

    def charge(self, app_id: str, units: int) -> None:
        with self._lock:
            usage = self._usage(app_id)
            usage.charges.append((self._clock(), units))
            usage.total_units += units
            usage.total_requests += 1
            # A window's sum only grows at a charge, so this sees its every maximum.
            in_window = sum(cost for _, cost in usage.charges)
            usage.peak_window_units = max(usage.peak_window_units, in_window)

    def headers(self, app_id: str) -> dict[str, str]:
        """RateLimit-* once the app has used WARN_SHARE of its budget (else none)."""
        if not self.per_minute:
            return {}
        with self._lock:
            usage = self._usage(app_id)
            spent = sum(units for _, units in usage.charges)
            if spent < WARN_SHARE * self.per_minute:
                return {}
            over = max(1, spent - math.floor(WARN_SHARE * self.per_minute))
            reset = max(1, math.ceil(self._seconds_until(usage, over)))
        return {
            "RateLimit-Limit": str(self.per_minute),
            "RateLimit-Remaining": str(max(0, self.per_minute - spent)),
            "RateLimit-Reset": str(reset),
        }

    def _seconds_until(self, usage: AppUsage, units: int) -> float:
        """Seconds until at least `units` of the window's charges have expired."""
        freed = 0
        for at, cost in usage.charges:
            freed += cost
            if freed >= units:
                return at + self.window - self._clock()
        return self.window

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Per app: units in the last minute, units and requests since start, 429s answered,
        and the most units ever in one window."""
        with self._lock:
            return {
                app_id: {
                    "used_last_minute": sum(u for _, u in self._usage(app_id).charges),
                    "total_units": usage.total_units,
                    "total_requests": usage.total_requests,
                    "throttled": usage.throttled,
                    "peak_window_units": usage.peak_window_units,
                }
                for app_id, usage in self._apps.items()
            }

    def reset(self) -> None:
        with self._lock:
            self._apps.clear()


# -- Flask hooks ---------------------------------------------------------------------------


def _board() -> ResourceBudget | None:
    return current_app.extensions.get("budget")


def _charged_app() -> str | None:
    """The app id of a well-signed token on a charged route; None = not charged here."""
    if request.blueprint not in CHARGED_BLUEPRINTS:
        return None
    if "budget_app" not in g:  # read once per request (before and after the route)
        tenant = current_app.extensions["tenant"]
        audiences = tokens.graph_audiences() | tokens.sharepoint_audiences(tenant)
        try:
            g.budget_app = tokens.read_token(tenant, tokens.bearer_token(), audiences).get("azp")
        except tokens.TokenRejected:
            g.budget_app = None  # the route answers 401; a refused token is not charged
    return g.budget_app


def before_request() -> Response | None:
    board = _board()
    if board is None:
        return None
    app_id = _charged_app()
    if app_id is None:
        return None
    wait = board.refuse(app_id)
    if wait is None:
        return None
    response = faults.throttled_response(str(wait))
    response.headers["RateLimit-Limit"] = str(board.per_minute)
    response.headers["RateLimit-Remaining"] = "0"
    response.headers["RateLimit-Reset"] = str(wait)
    return response


def after_request(response: Response) -> Response:
    board = _board()
    if board is None or response.status_code == 429:
        return response
    app_id = _charged_app()
    if app_id is None:
        return response
    if request.blueprint == "sharepoint":
        units = REST_COST
    else:
        units = int(response.headers.get("x-ms-resource-unit", "0") or 0)
    if units:
        board.charge(app_id, units)
    response.headers.update(board.headers(app_id))
    return response


# -- control -------------------------------------------------------------------------------

bp = Blueprint("budget_control", __name__, url_prefix="/_emulator/budget")


def _state(board: ResourceBudget):
    return jsonify(
        {"perMinute": board.per_minute, "windowSeconds": board.window, "apps": board.snapshot()}
    )


@bp.get("")
def show():
    return _state(current_app.extensions["budget"])


@bp.put("")
def configure():
    """{"perMinute": N or null, "windowSeconds": s, "reset": true} - a new budget (per window:
    a minute unless a test shortens it); `reset` forgets what was spent."""
    board: ResourceBudget = current_app.extensions["budget"]
    body = request.get_json(silent=True)
    per_minute = body.get("perMinute", board.per_minute) if isinstance(body, dict) else "bad"
    if per_minute is not None and (
        isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1
    ):
        message = 'The body must be {"perMinute": a positive integer or null, "reset": bool}.'
        return jsonify({"error": {"code": "badRequest", "message": message}}), 400
    window = body.get("windowSeconds", board.window)
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        message = '"windowSeconds" must be a positive number.'
        return jsonify({"error": {"code": "badRequest", "message": message}}), 400
    board.per_minute, board.window = per_minute, float(window)
    if body.get("reset"):
        board.reset()
    return _state(board)
