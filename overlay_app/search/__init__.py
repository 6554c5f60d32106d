"""Search over names and paths, tags and comment text, trimmed before anything is ranked."""
