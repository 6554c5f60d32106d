"""The admin console: sync jobs, health, moderation, feature switches, terms of use, data
requests and the audit log, in the browser under /admin and as JSON under /api/v1/admin.

Who may enter is decided in one place (`gate.py`): admins everywhere, moderators only on the
moderation pages, everyone else a 404, exactly like a page that does not exist. Sync jobs go
through the same sync modules as `plaza sync` (sync.jobs, sync.job_edits, sync.runs,
sync.progress); health is one function (`health.gather`) behind the page, the API and
`plaza status`. The SQL of the console's own tables is in `store.py`.
"""
