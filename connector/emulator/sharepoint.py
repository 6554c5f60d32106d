"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("sharepoint", __name__)
