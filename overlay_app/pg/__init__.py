"""The social store on PostgreSQL (PLAZA_DATABASE_URL=postgresql://...): the connection seam
(conn.py) and the schema's PostgreSQL form (schema.py). Unset, everything stays in SQLite."""
