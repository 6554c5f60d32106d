"""The composition root: the `plaza` command and `plaza demo`, which put the parts together.

connector/, sync/ and overlay_app/ never import this package, and none of their runtime modules
imports the tenant emulator; only this package (the demo, `plaza emulator`), tests and
benchmarks start it.
"""
