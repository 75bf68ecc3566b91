"""Synthetic, reproducible demo data sized from real published figures (not domain code):
`generate.generate_demo` fills an empty database with authorities, enquiries, registers,
SSDA903 returns, the seed strategies' targets and scenarios, and demo tokens."""

STOKE = "E06000021"
"""The demo's home authority, Stoke-on-Trent, whose strategies the seeds are."""
DEMO_ACTOR = "demo"
"""Who the demo's records say made them."""
SOURCE = "demo"
"""The source the demo's entered figures carry."""
