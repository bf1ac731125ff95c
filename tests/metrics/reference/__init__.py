"""Faithful copies of official evaluation scripts, to check our metrics against."""
