"""Faults on demand: throttling, outages, dropped connections, slow replies, early expiry.

A `FaultBoard` holds rules that tests set at run time through `/_emulator/faults`, plus an
optional profile chosen at start (`--faults none|flaky|throttled`). `before_request` asks the
board about every request except the control API and answers for the service when a rule hits.

Rule kinds:
- throttle: 429 with Retry-After and the body Microsoft documents (PROTOCOL 3.1)
- unavailable: 503 serviceNotAvailable with Retry-After
- gateway_timeout: 504 gatewayTimeout
- reset: the TCP connection is aborted without any response (RST)
- slow: the request waits `seconds`, then goes on normally
- expire_delta: every delta token issued so far answers 410 from now on, then goes on normally
- token_lifetime: the next access tokens issued live only `seconds` (read by tokens.py)
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import jwt
from flask import Response, current_app, has_request_context, jsonify, request

from connector.emulator import odata

REQUEST_KINDS = ("throttle", "unavailable", "gateway_timeout", "reset", "slow", "expire_delta")
KINDS = (*REQUEST_KINDS, "token_lifetime")
DEFAULT_SECONDS = {"slow": 1.0, "token_lifetime": 5.0}
CONTROL_PREFIX = "/_emulator/"


class FaultRuleError(ValueError):
    """A rule sent to the control API is malformed; the message says which field and why."""


@dataclass
class FaultRule:
    """One fault: what it does, which requests it hits, and how many more times."""

    kind: str
    path: str = ""  # regular expression searched in the request path; "" hits any path
    method: str | None = None
    count: int = 1  # requests left to hit; -1 = forever
    retry_after: str = "1"
    seconds: float = 0.0
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.path)

    @classmethod
    def from_json(cls, raw: Any) -> FaultRule:
        if not isinstance(raw, dict):
            raise FaultRuleError("Each rule must be a JSON object.")
        unknown = set(raw) - {"kind", "path", "method", "count", "retry_after", "seconds"}
        if unknown:
            raise FaultRuleError(f"Unknown rule field(s): {', '.join(sorted(unknown))}.")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise FaultRuleError(f"Rule kind must be one of {', '.join(KINDS)}; got {kind!r}.")
        return cls(
            kind=kind,
            path=_regex(raw.get("path", "")),
            method=_method(raw.get("method")),
            count=_count(raw.get("count", 1)),
            retry_after=_retry_after(raw.get("retry_after", "1")),
            seconds=_seconds(raw.get("seconds", DEFAULT_SECONDS.get(kind, 0.0))),
        )

    def matches(self, path: str, method: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return self.pattern.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "method": self.method,
            "count": self.count,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
        }


def _regex(value: Any) -> str:
    if not isinstance(value, str):
        raise FaultRuleError("Rule 'path' must be a regular expression string.")
    try:
        re.compile(value)
    except re.error as err:
        raise FaultRuleError(f"Rule 'path' is not a valid regular expression: {err}.") from err
    return value


def _method(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isalpha():
        raise FaultRuleError("Rule 'method' must be an HTTP method such as GET.")
    return value.upper()


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (value < 1 and value != -1):
        raise FaultRuleError("Rule 'count' must be a positive integer, or -1 for forever.")
    return value


def _retry_after(value: Any) -> str:
    """Retry-After as sent on the wire: whole or fractional seconds, or an HTTP date."""
    if isinstance(value, bool):
        raise FaultRuleError("Rule 'retry_after' must be seconds or an HTTP date.")
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise FaultRuleError("Rule 'retry_after' must be seconds or an HTTP date.")
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return value
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError) as err:
        raise FaultRuleError(
            f'Rule \'retry_after\' must be seconds ("2", "2.128") or an HTTP date; got {value!r}.'
        ) from err
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultRuleError("Rule 'seconds' must be a number of seconds, 0 or more.")
    return float(value)


# -- profiles ------------------------------------------------------------------------------------

Profile = Callable[[str, str], "FaultRule | None"]


def _is_service_path(path: str) -> bool:
    """Graph and SharePoint REST calls; the login endpoints are left alone by profiles."""
    return path.startswith("/v1.0/") or "/_api/" in path or path.endswith("/_api")


def _no_faults(path: str, method: str) -> FaultRule | None:
    return None


def _flaky(seed: int) -> Profile:
    """About 5% 429 with a fractional Retry-After and 1% 503, in a sequence fixed by the seed."""
    dice = random.Random(seed)
    lock = threading.Lock()

    def decide(path: str, method: str) -> FaultRule | None:
        if not _is_service_path(path):
            return None
        with lock:
            roll = dice.random()
            delay = round(dice.uniform(0.1, 1.5), 3)
        if roll < 0.05:
            return FaultRule("throttle", retry_after=f"{delay:.3f}")
        if roll < 0.06:
            return FaultRule("unavailable", retry_after="1")
        return None

    return decide


def _throttled() -> Profile:
    """Every 10th Graph request is throttled with Retry-After: 1."""
    counter = {"graph": 0}
    lock = threading.Lock()

    def decide(path: str, method: str) -> FaultRule | None:
        if not path.startswith("/v1.0/"):
            return None
        with lock:
            counter["graph"] += 1
            tenth = counter["graph"] % 10 == 0
        return FaultRule("throttle", retry_after="1") if tenth else None

    return decide


def make_profile(name: str) -> Profile:
    """`none`, `throttled`, `flaky` or `flaky:SEED`."""
    base, _, seed = name.partition(":")
    if base == "none" and not seed:
        return _no_faults
    if base == "throttled" and not seed:
        return _throttled()
    if base == "flaky":
        if seed and not seed.isdigit():
            raise ValueError(f"Fault profile seed must be a number: {name!r}.")
        return _flaky(int(seed or 2024))
    raise ValueError(f"Unknown fault profile {name!r}: use none, flaky, flaky:SEED or throttled.")


# -- the board -----------------------------------------------------------------------------------


class FaultBoard:
    """The rules in force, consulted once per request; safe to share between server threads."""

    def __init__(self, profile: str = "none") -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.set_profile(profile)

    def set_profile(self, profile: str) -> None:
        decide = make_profile(profile)
        with self._lock:
            self.profile = profile
            self._profile = decide

    def add(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            self._rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, path: str, method: str, kinds: Iterable[str]) -> FaultRule | None:
        """The first rule of one of `kinds` that hits this request, using up one of its hits."""
        wanted = set(kinds)
        with self._lock:
            for rule in self._rules:
                if rule.kind in wanted and rule.matches(path, method):
                    if rule.count > 0:
                        rule.count -= 1
                        if rule.count == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def next_fault(self, path: str, method: str) -> FaultRule | None:
        """What should happen to this request: a rule, else the profile's decision, else None."""
        if path.startswith(CONTROL_PREFIX):
            return None
        rule = self.take(path, method, REQUEST_KINDS)
        return rule if rule is not None else self._profile(path, method)

    def token_lifetime(self, default: int, path: str | None = None, method: str = "POST") -> int:
        """Lifetime for the token being issued: short while a token_lifetime rule is active.

        `path` defaults to the current request's (the token endpoint), so a rule's path can
        single out one tenant's or one flow's tokens.
        """
        if path is None:
            path, method = (request.path, request.method) if has_request_context() else ("", method)
        rule = self.take(path, method, ("token_lifetime",))
        return default if rule is None else max(1, int(rule.seconds))


def token_lifetime(default: int) -> int:
    """Lifetime (seconds) for an access token issued by the current request (tokens.py asks)."""
    board = current_app.extensions.get("faults") if has_request_context() else None
    return default if board is None else board.token_lifetime(default)


# -- applying a fault ----------------------------------------------------------------------------


def before_request() -> Response | None:
    """Flask hook: answer for the service when a fault hits this request, else let it through."""
    board: FaultBoard | None = current_app.extensions.get("faults")
    if board is None:
        return None
    rule = board.next_fault(request.path, request.method)
    return None if rule is None else apply(rule)


def apply(rule: FaultRule) -> Response | None:
    """Carries out a rule for the current request: a response to send, or None to go on."""
    if rule.kind == "throttle":
        return throttled_response(_wire_retry_after(rule.retry_after))
    if rule.kind == "unavailable":
        message = "The service is temporarily unavailable. Please retry after some time."
        headers = {"Retry-After": _wire_retry_after(rule.retry_after)}
        return _error("serviceNotAvailable", message, 503, headers)
    if rule.kind == "gateway_timeout":
        return _error("gatewayTimeout", "The gateway timed out waiting for the server.", 504, {})
    if rule.kind == "reset":
        return _reset_connection()
    if rule.kind == "slow":
        time.sleep(rule.seconds)
    elif rule.kind == "expire_delta":
        current_app.extensions["tenant"].expire_delta_tokens()
    return None


def _wire_retry_after(value: str) -> str:
    """SharePoint sends whole seconds: a fractional value is rounded up on its REST paths.

    Graph paths keep what the rule says (its documented example is `Retry-After: 2.128`).
    """
    sharepoint = has_request_context() and "/_api" in request.path
    if sharepoint and re.fullmatch(r"\d+\.\d+", value):
        return str(math.ceil(float(value)))
    return value


def throttled_response(retry_after: str) -> Response:
    """429 exactly as Graph documents it (note the innerError's own code and status)."""
    body = {
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": odata.now_iso(),
                "message": "Please retry after",
                "request-id": odata.request_id(),
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    }
    response = jsonify(body)
    response.status_code = 429
    response.headers["Retry-After"] = retry_after
    response.headers.update(_directory_throttle_headers())
    return response


DIRECTORY_PATHS = re.compile(r"^/v1\.0/(users|groups|me|directoryObjects|organization)\b", re.I)


def _directory_throttle_headers() -> dict[str, str]:
    """x-ms-throttle-* as Entra's directory APIs add them to a 429 (PROTOCOL 3.1)."""
    if not has_request_context() or not DIRECTORY_PATHS.match(request.path):
        return {}
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    if scheme.lower() != "bearer" or "azp" not in claims:
        return {}
    scope = f"Tenant_Application/ReadWrite/{claims['azp']}/{claims.get('tid', '')}"
    return {
        "x-ms-throttle-scope": scope,
        "x-ms-throttle-information": "ResourceUnitLimitExceeded",
    }


def _error(code: str, message: str, status: int, headers: dict[str, str]) -> Response:
    response = jsonify(odata.error_body(code, message))
    response.status_code = status
    response.headers.update(headers)
    return response


def _reset_connection() -> Response:
    """Aborts the TCP connection: SO_LINGER 0 makes the close send RST instead of FIN.

    The server still holds file objects on the socket, so the descriptor closes only when it
    lets go; shutting both directions first guarantees nothing more is read or sent, and the
    server's attempt to write the returned response fails as a dropped connection.
    """
    sock = request.environ.get("werkzeug.socket")
    if sock is None:  # not served by werkzeug: the nearest thing is a gateway timeout
        return _error("gatewayTimeout", "The connection was reset.", 504, {})
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):  # the peer may be gone already
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    return Response(status=500)
