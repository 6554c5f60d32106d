"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("documents", __name__)
API_PATHS: dict = {}
