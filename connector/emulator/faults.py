"""Placeholder: faults on demand (filled in by its owner)."""


class FaultBoard:
    def __init__(self, profile: str = "none") -> None:
        self.profile = profile


def before_request():
    return None
