"""Tiny models the project builds itself, for tests and the built-in demo (no hub downloads)."""
