"""Checks that span items: unique ids, duplicate and near-duplicate text, spec coverage.

Near-duplicates are found with character 1-3-gram TF-IDF cosine similarity over normalised
text. Character n-grams need no word segmentation, so they work for Chinese as well as
English; NFKC and case-folding make full-width/half-width and case variants identical.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from evalkit.errors import Problem
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.templating import TemplateError, render_template
from evalkit.textnorm import normalize_text

NEAR_DUPLICATE_THRESHOLD = 0.9
_BLOCK = 1024  # rows per block of the similarity product; bounds memory to BLOCK x N floats


def check_unique_ids(items: Sequence[LocatedItem]) -> list[Problem]:
    first: dict[str, str] = {}
    problems = []
    for located in items:
        seen = first.setdefault(located.item.id, located.where)
        if seen != located.where:
            problems.append(
                Problem(located.where, "id", f"duplicate id {located.item.id!r} (first at {seen})")
            )
    return problems


def _tfidf(texts: Sequence[str]) -> Any:
    """Character 1-3-gram TF-IDF rows (L2-normalised): no word segmentation needed for CJK."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), preprocessor=normalize_text, dtype=np.float32
    ).fit_transform(texts)


def near_duplicate_pairs(texts: Sequence[str], threshold: float) -> list[tuple[int, int, float]]:
    """Index pairs (i < j) whose normalised texts have cosine similarity >= threshold."""
    if len(texts) < 2 or threshold > 1.0:
        return []
    import numpy as np

    matrix = _tfidf(texts)
    pairs = []
    for start in range(0, matrix.shape[0], _BLOCK):
        block = (matrix[start : start + _BLOCK] @ matrix.T).toarray()
        rows, cols = np.nonzero(block >= threshold - 1e-6)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i < c:
                pairs.append((i, c, float(block[r, c])))
    return pairs


def similar_to(text: str, others: Sequence[str], threshold: float) -> list[tuple[int, float]]:
    """(index in `others`, similarity) of each text at least `threshold` similar to `text`.

    The same measure as `near_duplicate_pairs`, for one text against many: one row of the
    similarity matrix instead of all of it.
    """
    if not others or threshold > 1.0:
        return []
    matrix = _tfidf([text, *others])
    similarities = (matrix[0] @ matrix[1:].T).toarray()[0]
    return [(j, float(s)) for j, s in enumerate(similarities) if s >= threshold - 1e-6]


def check_duplicates(
    items: Sequence[LocatedItem], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[Problem]:
    """Exact duplicates after normalisation, then near-duplicates above `threshold`."""
    problems = []
    texts = [located.item.input_text() for located in items]
    normalized = [normalize_text(t) for t in texts]
    first: dict[str, int] = {}
    exact: set[tuple[int, int]] = set()
    for j, key in enumerate(normalized):
        i = first.setdefault(key, j)
        if i != j:
            exact.add((i, j))
            a = items[i]
            problems.append(
                Problem(
                    items[j].where,
                    "-",
                    f"duplicate text: same as {a.item.id!r} ({a.where}) after normalisation",
                )
            )
    reported = {j for _, j in exact}
    for i, j, similarity in near_duplicate_pairs(texts, threshold):
        if j in reported or normalized[i] == normalized[j]:
            continue
        reported.add(j)  # one problem per item: its earliest near-duplicate
        a = items[i]
        problems.append(
            Problem(
                items[j].where,
                "-",
                f"near-duplicate of {a.item.id!r} ({a.where}): similarity {similarity:.2f} "
                f">= {threshold:.2f}",
            )
        )
    return problems


def check_against_spec(
    spec: SuiteSpec, items: Sequence[LocatedItem], spec_where: str = "suite.yaml"
) -> list[Problem]:
    """Every task has a config, every template renders for every item, few-shot is possible."""
    problems = []
    reported: set[tuple[str, str]] = set()
    for located in items:
        item = located.item
        config = spec.tasks.get(item.task)
        if config is None:
            if ("task", item.task) not in reported:
                reported.add(("task", item.task))
                problems.append(
                    Problem(
                        located.where,
                        "task",
                        f"the suite has no config for task {item.task!r} "
                        f"(add tasks.{item.task} to suite.yaml)",
                    )
                )
            continue
        context = item.template_context()
        for name in ("instruction", "prompt", "target", "chat", "system"):
            source = getattr(config, name)
            if source is None or (item.task, name) in reported:
                continue
            try:
                render_template(source, context)
            except TemplateError as e:
                reported.add((item.task, name))
                problems.append(
                    Problem(
                        located.where,
                        f"tasks.{item.task}.{name}",
                        f"{e} (first failing item {item.id!r})",
                    )
                )
    problems += _check_metric_names(spec, spec_where)
    dev = Counter(located.item.task for located in items if located.item.split == "dev")
    test_tasks = {located.item.task for located in items if located.item.split == "test"}
    for task, config in spec.tasks.items():
        if task in test_tasks and dev[task] < config.fewshot:
            problems.append(
                Problem(
                    spec_where,
                    f"tasks.{task}.fewshot",
                    f"asks for {config.fewshot} few-shot exemplars but the suite has {dev[task]} "
                    f"dev item(s) of task {task!r}",
                )
            )
    return problems


def _check_metric_names(spec: SuiteSpec, spec_where: str) -> list[Problem]:
    from evalkit.errors import UsageError
    from evalkit.metrics.registry import get_metric

    problems = []
    for task, config in spec.tasks.items():
        for i, name in enumerate(config.metrics):
            try:
                found = get_metric(name)
            except UsageError as e:
                problems.append(Problem(spec_where, f"tasks.{task}.metrics[{i}]", str(e)))
                continue
            if task not in found.tasks:
                problems.append(
                    Problem(
                        spec_where,
                        f"tasks.{task}.metrics[{i}]",
                        f"metric {name!r} does not apply to {task} items "
                        f"(it applies to {', '.join(found.tasks)})",
                    )
                )
    return problems


def check_items(
    items: Sequence[LocatedItem],
    spec: SuiteSpec | None = None,
    near_duplicate_threshold: float = NEAR_DUPLICATE_THRESHOLD,
    spec_where: str = "suite.yaml",
) -> list[Problem]:
    """All cross-item checks, every problem reported."""
    problems = check_unique_ids(items) + check_duplicates(items, near_duplicate_threshold)
    if spec is not None:
        problems += check_against_spec(spec, items, spec_where)
    return problems
