"""Tags on documents, a page per tag, and suggestions ranked once per change."""
