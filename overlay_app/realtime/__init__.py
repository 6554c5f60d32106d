"""Real time: the durable event log, the per-process pump, and the server-sent event streams."""
