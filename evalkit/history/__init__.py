"""Runs over time: the run index (`index`)."""
