"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("search", __name__)
API_PATHS: dict = {}
