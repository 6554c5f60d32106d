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
Messages are English in the code (the msgid) and translated here, when shown, into the
request's language; a message with `%(name)s` places carries its values as keyword arguments,
so `BadInput("At most %(most)s.", most=5)` reads "At most 5." in English.
JSON request bodies that Python parses but nothing can use are BadInput too (`RequestJSON`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from werkzeug.exceptions import HTTPException


def N_(text: str) -> str:
    """Marks English text for extraction (Babel's default `N_` keyword) where it is written;
    it is translated where it is shown."""
    return text


class Phrase(str):
    """English words that fill a message's place and are translated with it (a verb, a noun);
    any other value (a name, a number, an id) is filled in as it is."""


class PlazaError(Exception):
    status = 500
    code = "internal"
    default_message = N_("Something went wrong on our side. Try again in a moment.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.template = message or self.default_message
        self.params = params
        self.message = self.template % params if params else self.template
        super().__init__(self.message)

    def words(self) -> str:
        """The message in the request's language (English when there is no translation)."""
        return translated(self.template, self.params)


class BadInput(PlazaError):
    status, code, default_message = 400, "badRequest", N_("The request is not valid.")


class Unauthenticated(PlazaError):
    status, code, default_message = 401, "unauthenticated", N_("Sign in to continue.")


class Forbidden(PlazaError):
    status, code, default_message = 403, "forbidden", N_("You are not allowed to do that.")


class NotFound(PlazaError):
    status, code, default_message = 404, "notFound", N_("Not found.")


class Conflict(PlazaError):
    status, code, default_message = 409, "conflict", N_("That conflicts with the current state.")


class PayloadTooLarge(PlazaError):
    status, code, default_message = 413, "payloadTooLarge", N_("That is too long.")


class RateLimited(PlazaError):
    status, code = 429, "tooManyRequests"
    default_message = N_("Too many changes at once: try again in %(seconds)s s.")

    def __init__(self, retry_after: int, message: str | None = None, **params: Any) -> None:
        super().__init__(message, **{"seconds": retry_after, **params})
        self.retry_after = retry_after


def translated(template: str, params: dict[str, Any]) -> str:
    """`template` in the request's language, its places filled with `params`. Outside a
    request, or without a catalog, the English template itself."""
    try:
        if not params:
            return gettext(template)
        return gettext(template, **{k: _phrase(v) for k, v in params.items()})
    except (KeyError, RuntimeError):  # no app context, or Babel not set up on this app
        return template % params if params else template


def _phrase(value: Any) -> Any:
    return gettext(value) if isinstance(value, Phrase) else value


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
        flash(refusal.words(), "error")
        better = None
    return redirect(better if isinstance(better, str) else landing, code=303)


NOT_TEXT = N_(
    'The JSON body holds a "\\ud800"-style escape that is no character (a lone surrogate):'
    " send text."
)
TOO_DEEP = N_("The JSON body nests too deeply.")
NUL_TEXT = N_("NUL characters (U+0000) are not allowed in text: remove them.")


def holds_nul(value: Any) -> bool:
    """Whether any string in a parsed JSON value (a key included) holds a NUL character,
    which PostgreSQL's text cannot store. Iterative: a body may nest deeply."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class RequestJSON(DefaultJSONProvider):
    """Flask's JSON (keys in the order written), refusing with BadInput three kinds of request
    body that json.loads accepts: nesting past Python's recursion limit (RecursionError), lone
    surrogates ("\\ud800" unpaired), which no UTF-8 text, SQLite's included, can hold, and NUL
    characters ("\\u0000"), which PostgreSQL's text cannot (one answer on both engines).
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
        if holds_nul(value):
            raise BadInput(NUL_TEXT)
        return value


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul_fields() -> None:
    """Before any other hook or view: a request whose path, query, headers (an
    Idempotency-Key is stored) or form (names, values, file names) holds a NUL character is
    refused, as a JSON body holding one is (RequestJSON), so that nothing reaches a store that
    could not keep it."""
    fields = [
        *request.args.items(multi=True),
        *(request.view_args or {}).items(),
        *request.headers.items(),
    ]
    if request.mimetype in FORM_TYPES:
        fields += request.form.items(multi=True)
        fields += [(name, f.filename or "") for name, f in request.files.items(multi=True)]
    if any("\x00" in f"{name}{value}" for name, value in fields):
        raise BadInput(NUL_TEXT)


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


# Werkzeug's own descriptions of the HTTP errors Plaza lets it raise, marked so that the catalog
# holds them: `_http_error` translates them like any message.
WERKZEUG_WORDS = (
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("The method is not allowed for the requested URL."),
    N_("The data value transmitted exceeds the capacity limit."),
    N_("The server does not support the media type transmitted in the request."),
)


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
    response = render_error(error.status, error.code, error.words())
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = NotFound.default_message if status == 404 else (error.description or error.name)
    return render_error(status, HTTP_CODES.get(status, "error"), translated(message, {}))


def _unexpected(error: Exception) -> Response:
    from flask import current_app

    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return render_error(500, "internal", translated(PlazaError.default_message, {}))


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_fields)  # first: create_app calls this before other inits
    app.register_error_handler(PlazaError, _plaza_error)
    app.register_error_handler(HTTPException, _http_error)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
