"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("graph_batch", __name__)
