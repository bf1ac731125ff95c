"""Metrics: registered by name, small and pure; see `registry.metric`."""

from evalkit.metrics.registry import Metric, get_metric, metric, metric_names

__all__ = ["Metric", "get_metric", "metric", "metric_names"]
