"""Mirrors documents, people, groups and permissions into Plaza's local SQLite index."""
