"""The emulator's Flask application: one app serving the login, Graph and SharePoint hosts.

Paths tell the services apart, as their hosts do at Microsoft:
`/{tenant}/oauth2/v2.0/...` and `/{tenant}/v2.0/.well-known/...` are Entra ID, `/v1.0/...` is
Graph, `/_api/...` below a site path is SharePoint REST, `/_emulator/...` is the control API.
"""

from __future__ import annotations

from flask import Flask, Response

from connector.emulator import budget, faults, odata
from connector.emulator.subscription_board import SubscriptionBoard
from connector.emulator.tenant import Tenant


def create_app(
    tenant: Tenant,
    fault_profile: str = "none",
    budget_per_minute: int | None = budget.DEFAULT_PER_MINUTE,
) -> Flask:
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.compact = True  # type: ignore[attr-defined]
    app.extensions["tenant"] = tenant
    app.extensions["faults"] = faults.FaultBoard(profile=fault_profile)
    app.extensions["budget"] = budget.ResourceBudget(budget_per_minute)
    app.extensions["subscriptions"] = SubscriptionBoard(tenant.tenant_id)

    from connector.emulator import (
        control,
        entra,
        graph_batch,
        graph_directory,
        graph_files,
        graph_list_fields,
        graph_owner_drives,
        graph_subscriptions,
        sharepoint,
        teams_host,
        unknown_routes,
    )

    services = (entra, graph_directory, graph_files, graph_owner_drives, graph_batch, sharepoint)
    services += (graph_list_fields,)
    for module in (*services, graph_subscriptions, control, teams_host, budget):
        app.register_blueprint(module.bp)
    app.register_blueprint(graph_subscriptions.control_bp)
    unknown_routes.register(app)

    app.register_error_handler(odata.GraphHTTPError, odata.graph_error_response)
    app.before_request(faults.before_request)
    app.before_request(budget.before_request)
    app.after_request(budget.after_request)
    app.after_request(graph_subscriptions.pump_changes)
    app.after_request(_stamp_request_ids)
    return app


def _stamp_request_ids(response: Response) -> Response:
    response.headers.setdefault("request-id", odata.request_id())
    response.headers.setdefault("client-request-id", odata.client_request_id())
    return response
