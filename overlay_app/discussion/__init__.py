"""Discussion of a document: comments (views and actions), likes, mentions, Markdown rendering,
reading threads (reads)."""
