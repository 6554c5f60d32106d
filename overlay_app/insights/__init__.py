"""Insights for community managers: engagement KPIs, expertise evidence, who talks to whom.

Everything here is computed over what the viewer may open, trimmed first (activity.py), and
any figure about a group of fewer than `insights_min_group` people (never below 5) reads "too
few people". See overlay_app/README.md for the rules and bench/README.md for the figures.
"""
