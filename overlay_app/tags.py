"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("tags", __name__)
API_PATHS: dict = {}
