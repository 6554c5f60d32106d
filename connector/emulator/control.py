"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("control", __name__)
