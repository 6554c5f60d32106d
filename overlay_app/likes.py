"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("likes", __name__)
API_PATHS: dict = {}
