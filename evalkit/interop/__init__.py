"""Suites handed to other harnesses: lm-evaluation-harness task folders and Inspect AI tasks,
with the prompts evalkit itself would send, and a README of what they cannot express."""
