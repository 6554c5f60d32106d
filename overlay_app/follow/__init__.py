"""Following and notification levels: what a person follows (documents, folders and
libraries, sites, people, tags, chat channels), the level they set per document, folder, tag
and channel (watching, participating, muted), and by which channel (in Plaza, email) each
kind of event reaches them. `levels.channels_for` is what notifications ask before writing."""
