"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
API_PATHS: dict = {}
