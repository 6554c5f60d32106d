"""Placeholder: filled in by its owner."""

from flask import Blueprint

bp = Blueprint("entra", __name__)
