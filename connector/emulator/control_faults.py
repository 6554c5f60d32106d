"""The fault control endpoints, mounted by control.py at /_emulator/faults (see faults.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from connector.emulator.faults import FaultBoard, FaultRule, FaultRuleError

bp = Blueprint("faults", __name__, url_prefix="/faults")


def _board() -> FaultBoard:
    return current_app.extensions["faults"]


def _board_json():
    board = _board()
    return jsonify({"profile": board.profile, "rules": [r.to_json() for r in board.rules()]})


@bp.get("")
def list_rules():
    return _board_json()


@bp.post("")
def add_rules():
    """Adds {"rules": [...]}; {"profile": name} also switches the profile."""
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
            raise FaultRuleError('The body must be {"rules": [...]} (and optionally "profile").')
        rules = [FaultRule.from_json(raw) for raw in body.get("rules", [])]
        if "profile" in body:
            _board().set_profile(str(body["profile"]))
    except ValueError as err:
        return jsonify({"error": {"code": "badRequest", "message": str(err)}}), 400
    _board().add(rules)
    return _board_json(), 201


@bp.delete("")
def clear_rules():
    _board().clear()
    return _board_json()
