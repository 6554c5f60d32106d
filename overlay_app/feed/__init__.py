"""The "For you" feed: one entry per conversation (a document's discussion, a chat channel)
with activity in what the person follows and around them, newest activity first, each with
why it is there; trimmed at read time like every list."""
