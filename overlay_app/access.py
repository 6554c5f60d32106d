"""Placeholder: the one access check (filled in by its owner)."""
