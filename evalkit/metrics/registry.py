"""The metric registry: `@metric("name", tasks=...)` on a small pure function.

Item metrics score one output against one item (a number in [0, 1], or None when the metric
does not apply) and aggregate by mean. Corpus metrics (BLEU, chrF, macro F1) see all items of
a task at once and return `CorpusStatistics`: additive per-item statistics plus the function
that turns their sum into the score, so a bootstrap resamples sums instead of recomputing.
Registration checks the function's shape, and an unknown name suggests the closest one.
A metric may take keyword-only options with defaults (BLEU's `tokenize`); a run sets them
through its scoring configuration.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from evalkit.errors import UsageError
from evalkit.suite.items import TASK_TYPES, ItemBase

MetricKind = Literal["item", "corpus"]


@dataclass(frozen=True)
class CorpusStatistics:
    """Per-item additive statistics (n x k) and the score of any sum of them."""

    stats: np.ndarray
    reduce: Callable[[np.ndarray], float]
    signature: str | None = None  # how the number was computed (sacrebleu's signature)

    @property
    def value(self) -> float:
        return self.reduce(self.stats.sum(axis=0))


ItemMetric = Callable[[ItemBase, str], float | None]
CorpusMetric = Callable[[Sequence[ItemBase], Sequence[str]], CorpusStatistics]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    tasks: tuple[str, ...]
    fn: Callable[..., Any]
    description: str
    options: tuple[str, ...] = ()  # keyword-only parameters a run may set


_REGISTRY: dict[str, Metric] = {}


def metric(
    name: str, *, tasks: Sequence[str], kind: MetricKind = "item"
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a metric; the function must take (item, output) or (items, outputs), plus any
    keyword-only options with defaults."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn).parameters.values()
        params = [p.name for p in signature if p.kind is not p.KEYWORD_ONLY]
        options = tuple(p.name for p in signature if p.kind is p.KEYWORD_ONLY)
        if any(p.default is p.empty for p in signature if p.kind is p.KEYWORD_ONLY):
            raise TypeError(f"metric {name!r}: keyword-only options need defaults")
        if len(params) != 2:
            expected = "(item, output)" if kind == "item" else "(items, outputs)"
            raise TypeError(f"metric {name!r}: expected {expected}, got ({', '.join(params)})")
        unknown = [t for t in tasks if t not in TASK_TYPES]
        if unknown:
            raise TypeError(f"metric {name!r}: unknown task types {unknown}")
        if name in _REGISTRY:
            raise TypeError(f"metric {name!r} is already registered")
        doc = (inspect.getdoc(fn) or "").splitlines()
        _REGISTRY[name] = Metric(name, kind, tuple(tasks), fn, doc[0] if doc else "", options)
        return fn

    return register


def _load_builtin() -> None:
    from evalkit.metrics import builtin  # noqa: F401  (registers on import)


def get_metric(name: str) -> Metric:
    _load_builtin()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"unknown metric {name!r}{hint} (metrics: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]


def metric_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)
