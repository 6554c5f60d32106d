"""The overlay's exception tree and the one place that turns errors into words for people.

    PlazaError (500 internal)
    ├── BadInput (400 badRequest)          what is wrong and what to do
    ├── Unauthenticated (401 unauthenticated)
    ├── Forbidden (403 forbidden)          only for things that are not documents
    ├── NotFound (404 notFound)            also everything a person may not see
    ├── Conflict (409 conflict)
    ├── PayloadTooLarge (413 payloadTooLarge)
    └── RateLimited (429 tooManyRequests)  carries retry_after seconds

Under /api (and /webhooks) the answer is JSON {"error": {"code", "message"}}; elsewhere an
HTML page.
JSON request bodies that Python parses but nothing can use are BadInput too (`RequestJSON`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException


class PlazaError(Exception):
    status = 500
    code = "internal"
    default_message = "Something went wrong on our side. Try again in a moment."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class BadInput(PlazaError):
    status, code, default_message = 400, "badRequest", "The request is not valid."


class Unauthenticated(PlazaError):
    status, code, default_message = 401, "unauthenticated", "Sign in to continue."


class Forbidden(PlazaError):
    status, code, default_message = 403, "forbidden", "You are not allowed to do that."


class NotFound(PlazaError):
    status, code, default_message = 404, "notFound", "Not found."


class Conflict(PlazaError):
    status, code, default_message = 409, "conflict", "That conflicts with the current state."


class PayloadTooLarge(PlazaError):
    status, code, default_message = 413, "payloadTooLarge", "That is too long."


class RateLimited(PlazaError):
    status, code, default_message = 429, "tooManyRequests", "Too many changes at once."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message or f"Too many changes at once: try again in {retry_after} s.")
        self.retry_after = retry_after


# What a browser form shows as a flashed message on the page it returns to (PRG), rather than
# as an error page: the person can correct the input or wait, and try again.
FORM_REFUSALS = (BadInput, Conflict, Forbidden, PayloadTooLarge, RateLimited)


def form_reply(landing: str, action: Callable[[], Any]) -> Response:
    """Runs a browser form's write and answers 303 See Other (PRG: the browser GETs the page
    and never re-POSTs). A refusal in FORM_REFUSALS becomes a flashed message on that page;
    the action may return a better place to land (a new comment's anchor)."""
    try:
        better = action()
    except FORM_REFUSALS as refusal:
        flash(refusal.message, "error")
        better = None
    return redirect(better if isinstance(better, str) else landing, code=303)


NOT_TEXT = (
    'The JSON body holds a "\\ud800"-style escape that is no character (a lone surrogate):'
    " send text."
)
TOO_DEEP = "The JSON body nests too deeply."


class RequestJSON(DefaultJSONProvider):
    """Flask's JSON (keys in the order written), refusing with BadInput two kinds of request
    body that json.loads accepts: nesting past Python's recursion limit (RecursionError), and
    lone surrogates ("\\ud800" unpaired), which no UTF-8 text, SQLite's included, can hold.
    BadInput is no ValueError, so it also reaches callers of get_json(silent=True)."""

    sort_keys = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
            json.dumps(value, ensure_ascii=False).encode()  # fails on a lone surrogate
        except RecursionError as exc:
            raise BadInput(TOO_DEEP) from exc
        except UnicodeEncodeError as exc:
            raise BadInput(NOT_TEXT) from exc
        return value


HTTP_CODES = {
    400: "badRequest",
    401: "unauthenticated",
    403: "forbidden",
    404: "notFound",
    405: "methodNotAllowed",
    413: "payloadTooLarge",
    415: "unsupportedMediaType",
    429: "tooManyRequests",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def render_error(status: int, code: str, message: str) -> Response:
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        response = Response(render_template("error.html", status=status, message=message))
    response.status_code = status
    return response


def _plaza_error(error: PlazaError) -> Response:
    response = render_error(error.status, error.code, error.message)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = "Not found." if status == 404 else (error.description or error.name)
    return render_error(status, HTTP_CODES.get(status, "error"), message)


def _unexpected(error: Exception) -> Response:
    from flask import current_app

    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return render_error(500, "internal", PlazaError.default_message)


def init_app(app: Flask) -> None:
    app.register_error_handler(PlazaError, _plaza_error)
    app.register_error_handler(HTTPException, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
