"""Email: mentions soon after they happen (unless read meanwhile), everything else in a digest
per person (hourly, daily or weekly), through a real SMTP server, from an outbox that never
sends a mail twice. No mail names a document: it says "a document" and links to its page."""
