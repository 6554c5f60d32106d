"""Plaza's web app and JSON API: discussions about SharePoint documents, trimmed by access."""

from __future__ import annotations

from typing import Any

from flask import Flask

from overlay_app import db, errors
from overlay_app.settings import OverlaySettings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # The features are imported here, not at the top: importing the package (as `plaza realtime`
    # does before gunicorn's gevent worker patches the standard library) must not load ssl.
    from overlay_app import i18n, openapi, security, times
    from overlay_app.features import FEATURE_INITS, FEATURES

    app = Flask(__name__)
    if test_config is None:
        settings = OverlaySettings.from_env()
    else:
        settings = OverlaySettings.from_mapping(test_config)
        app.testing = bool(test_config.get("extra", {}).get("testing", True))
    app.extensions["plaza.settings"] = settings
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1_000_000)
    app.json = errors.RequestJSON(app)
    db.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    times.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(openapi.bp)
    for module in FEATURES:
        app.register_blueprint(module.bp)
    for init_feature in FEATURE_INITS:
        init_feature(app)
    # After auth's hook that says who is asking: a request that nobody is signed in to is sent
    # to sign-in (pages) or answered 401 (API) before it could be judged forged; every request
    # that carries a session still meets the CSRF check before its view runs.
    security.init_csrf(app)
    return app
