"""The people directory and profiles, from the index's people (synced from Entra)."""
