"""Placeholder: CSRF, CSP with nonces, rate limits, audit (filled in by its owner)."""

from flask import Flask


def init_app(app: Flask) -> None:
    pass
