"""Comments and likes of SharePoint pages and list items, through SharePoint REST.

Graph has no API for them, so this adapter uses office365-rest-python-client's ClientContext
(the only module of ours that imports office365; none of its objects leave this module). A
list is named by its id (a driveItem's `sharepointIds.listId`) or its title ("Site Pages");
an item by its list item id (`sharepointIds.listItemId`).

Requests go through a connector.session Transport (office365 sends them, through
`_PlazaTransport`): the same session factory and the same retry decision as Graph's, so a 429
or 503 with Retry-After is waited out, and counted, exactly as for Graph.

Tokens have the SharePoint audience (the site's origin) and come from the same MSAL app as
Graph's, or from a signed-in user for writes made on their behalf. SharePoint refuses
app-only tokens obtained with a client secret ("Unsupported app only token."): app-only
access needs a certificate credential, and this adapter says so before trying.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from office365.runtime.auth.token_response import TokenResponse
from office365.runtime.http.http_method import HttpMethod
from office365.runtime.http.request_options import RequestOptions
from office365.runtime.transport.base import BaseTransport
from office365.sharepoint.client_context import ClientContext

from connector.error_mapping import error_from_response
from connector.errors import AuthError, ConnectorError, GraphError
from connector.http import user_agent
from connector.models_sharepoint import Comment, Likes, collection, unwrap
from connector.session import Transport, new_session
from connector.settings import ConnectorSettings

SITE_PAGES = "Site Pages"
NOMETADATA = "application/json;odata=nometadata"
GUID = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")
CERTIFICATE_NEEDED = (
    "SharePoint REST does not accept app-only tokens obtained with a client secret; upload a "
    "certificate to the app registration (Entra ID -> App registrations -> Certificates & "
    "secrets) and set PLAZA_CERT_KEY_PATH with PLAZA_CERT_THUMBPRINT or PLAZA_CERT_PATH"
)
TOKEN_REFRESH_SECONDS = 300  # ask our token source again this often (MSAL caches meanwhile)


class TokenSource(Protocol):
    """Where SharePoint tokens come from: connector.auth.TokenProvider, or a user's tokens."""

    @property
    def app_only(self) -> bool: ...

    @property
    def credential_kind(self) -> str: ...

    def token(self, audience: str) -> str: ...


class UserTokens:
    """A signed-in user's tokens (from the web app's sign-in), for writes on their behalf:
    comments and likes are then by that person, as SharePoint records likes per user."""

    app_only = False
    credential_kind = "user"

    def __init__(self, get_token: Callable[[str], str]) -> None:
        self._get_token = get_token  # audience (a SharePoint origin) -> access token

    def token(self, audience: str) -> str:
        return self._get_token(audience)


class SharePointComments:
    """Reads and writes comments and likes; one instance per token source, thread-safe.

    `transport` may be shared with Graph's (GraphHttp.transport): they then pause together
    when either is throttled, and are counted together.
    """

    def __init__(
        self,
        settings: ConnectorSettings,
        tokens: TokenSource,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.tokens = tokens
        self.transport = transport or Transport(
            new_session(settings.ca_bundle, settings.http_timeout),
            max_retries=settings.max_retries,
            user_agent=user_agent(settings.user_agent_company),
        )
        self._local = threading.local()  # ClientContext is not thread-safe: one per thread
        self._issued: dict[str, str] = {}  # last token handed out per audience

    # -- reads -----------------------------------------------------------------------------

    def comments(self, site_url: str, list_ref: str, item_id: int) -> list[Comment]:
        """Comments of a page or list item, newest first, with replies and who liked them."""
        raw = self._call(
            site_url,
            "GET",
            _item_path(list_ref, item_id) + "/comments",
            query="$expand=replies,likedBy,replies/likedBy&$top=500",
        )
        return [Comment.from_sharepoint(entry) for entry in collection(raw)]

    def likes(self, site_url: str, list_ref: str, item_id: int) -> Likes:
        """Who liked a page or list item."""
        raw = self._call(
            site_url,
            "GET",
            _item_path(list_ref, item_id) + "/likedByInformation",
            query="$expand=likedBy",
        )
        return Likes.from_sharepoint(raw)

    def page_comments(self, site_url: str, page_item_id: int) -> list[Comment]:
        return self.comments(site_url, SITE_PAGES, page_item_id)

    # -- writes (for write-back on a user's behalf) ------------------------------------------

    def add_comment(self, site_url: str, list_ref: str, item_id: int, text: str) -> Comment:
        """Posts a comment (office365 has no helper for the `comments` collection)."""
        raw = self._call(
            site_url, "POST", _item_path(list_ref, item_id) + "/comments", body={"text": text}
        )
        return Comment.from_sharepoint(raw)

    def reply(
        self, site_url: str, list_ref: str, item_id: int, comment_id: str, text: str
    ) -> Comment:
        path = f"{_item_path(list_ref, item_id)}/comments({int(comment_id)})/replies"
        return Comment.from_sharepoint(self._call(site_url, "POST", path, body={"text": text}))

    def like(self, site_url: str, list_ref: str, item_id: int, liked: bool = True) -> None:
        """Likes (or unlikes) a page or list item as the token's user."""
        verb = "like" if liked else "unlike"
        self._call(site_url, "POST", f"{_item_path(list_ref, item_id)}/{verb}")

    def like_comment(
        self, site_url: str, list_ref: str, item_id: int, comment_id: str, liked: bool = True
    ) -> None:
        verb = "like" if liked else "unlike"
        path = f"{_item_path(list_ref, item_id)}/comments({int(comment_id)})/{verb}"
        self._call(site_url, "POST", path)

    # -- internals -------------------------------------------------------------------------

    def _call(
        self,
        site_url: str,
        method: str,
        path: str,
        query: str = "",
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One REST call through the site's ClientContext; JSON answer or None."""
        if self.tokens.app_only and self.tokens.credential_kind == "secret":
            raise AuthError(CERTIFICATE_NEEDED, code="certificateRequired")
        url = f"{site_url.rstrip('/')}/_api/{path}" + (f"?{query}" if query else "")
        try:
            response = self._send(site_url, method, url, body)
        except ConnectorError as error:
            if not (error.status == 401 and not error.code):
                raise
            self._forget(site_url)  # an expired token: forget it and ask again, once
            response = self._send(site_url, method, url, body)
        return unwrap(response.json()) if response.content else None

    def _send(self, site_url: str, method: str, url: str, body: dict[str, Any] | None):
        options = RequestOptions(
            url=url,
            method=HttpMethod.Post if method == "POST" else HttpMethod.Get,
            headers={"Accept": NOMETADATA, "Content-Type": NOMETADATA},
            data=body,  # sent as the JSON body
        )
        try:
            return self._context(site_url).pending_request().execute_request_direct(options)
        except requests.RequestException as exc:  # office365 raises them for error answers
            raise _translate(exc) from exc

    def _forget(self, site_url: str) -> None:
        """Drops the site's context and its token, so the next call gets a fresh token."""
        contexts = self._local.__dict__.get("contexts", {})
        contexts.pop(site_url.rstrip("/").lower(), None)
        audience = _origin(site_url)
        token = self._issued.get(audience)
        invalidate = getattr(self.tokens, "invalidate", None)
        if token and invalidate:
            invalidate(audience, token)

    def _context(self, site_url: str) -> ClientContext:
        contexts: dict[str, ClientContext] = self._local.__dict__.setdefault("contexts", {})
        key = site_url.rstrip("/").lower()
        if key not in contexts:
            audience = _origin(site_url)
            context = ClientContext(site_url.rstrip("/")).with_access_token(
                lambda: self._token_response(audience)
            )
            context.pending_request().transport = _PlazaTransport(self.transport)
            contexts[key] = context
        return contexts[key]

    def _token_response(self, audience: str) -> TokenResponse:
        token = self.tokens.token(audience)
        self._issued[audience] = token
        return TokenResponse(
            access_token=token, token_type="Bearer", expiresIn=TOKEN_REFRESH_SECONDS
        )


class _PlazaTransport(BaseTransport):
    """office365's way out to the network, through our Transport (and its retry decision)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def execute(self, request: RequestOptions) -> requests.Response:
        method = request.method.value
        return self.transport.send(
            method,
            request.url,
            headers=request.headers,
            # Reads, and likes (a POST without a body), are safe to send again.
            retryable=method == "GET" or request.data is None,
            json=request.data,
        )


def _item_path(list_ref: str, item_id: int) -> str:
    """REST path of a list item: by list id (guid) or by list title."""
    if GUID.match(list_ref):
        return f"web/lists(guid'{list_ref.strip('{}')}')/items({int(item_id)})"
    title = list_ref.replace("'", "''")
    return f"web/lists/GetByTitle('{title}')/items({int(item_id)})"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _translate(exc: requests.RequestException) -> ConnectorError:
    response = getattr(exc, "response", None)
    if response is None:
        return GraphError(f"SharePoint request failed: {exc}", code="connectionError")
    error = error_from_response(response)
    if response.status_code == 401 and "app only" in (error.message or "").lower():
        return AuthError(
            CERTIFICATE_NEEDED, status=401, code="certificateRequired", request_id=error.request_id
        )
    return error
