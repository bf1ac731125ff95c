"""Breakdowns of a scored run: per label, per extraction field, and unreadable answers.

- labels: precision, recall, F1 and support per gold label of choice tasks (scikit-learn's
  definitions),
  plus the micro and macro averages as labels "(micro)" and "(macro)";
- fields: precision, recall and F1 per extraction field, plus "(micro)" over all fields;
- answers: per model × suite × task, how many choice answers could not be read from the
  output, and why (several answers, a hedge, a negation, none at all). An unreadable answer
  scores as wrong; this says how much of a model's error is that;
- errors: items a model did not answer (too long for its context, or a failed request),
  which are left out of its scores and listed here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from evalkit.metrics.builtin import (
    f1_from_counts,
    field_counts,
    field_outcomes,
    gold_label,
    predicted_fields,
)
from evalkit.scoring.items import CHOICE_TASKS
from evalkit.suite.store import SuiteVersion

NO_ANSWER = "<none>"


def label_report(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> list[dict[str, Any]]:
    """Per-label precision, recall, F1 and support for choice tasks, then "(micro)" and
    "(macro)" over the gold labels; an unreadable answer is a miss, not a prediction.

    The numbers are scikit-learn's `precision_recall_fscore_support` with `labels=` the gold
    labels and `zero_division=0` (tests check them against it); computed from the confusion
    counts here, which spares every scoring process the 1 s import of scikit-learn.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["task"] in CHOICE_TASKS and r["output"] is not None:
            groups.setdefault((r["model"], r["suite"], r["task"]), []).append(r)
    out = []
    for (model, suite, task), members in sorted(groups.items()):
        gold = [gold_label(versions[suite].by_id[r["item_id"]]) for r in members]
        predicted = [r.get("answer") or NO_ANSWER for r in members]
        labels = sorted(set(gold))
        counts = {label: [0, 0, 0] for label in labels}  # true pos., false pos., false neg.
        for g, p in zip(gold, predicted, strict=True):
            if g == p:
                counts[g][0] += 1
                continue
            counts[g][2] += 1
            if p in counts:
                counts[p][1] += 1
        support = Counter(gold)
        per_label: list[tuple[str, float, float, float, int]] = [
            (label, *_prf(*counts[label]), support[label]) for label in labels
        ]
        tp, fp, fn = (sum(c[k] for c in counts.values()) for k in range(3))
        n_labels = len(labels)
        p_macro = sum(row[1] for row in per_label) / n_labels
        r_macro = sum(row[2] for row in per_label) / n_labels
        f_macro = sum(row[3] for row in per_label) / n_labels
        rows_out = [
            *per_label,
            ("(micro)", *_prf(tp, fp, fn), len(gold)),
            ("(macro)", p_macro, r_macro, f_macro, len(gold)),
        ]
        out += [
            {
                "model": model,
                "suite": suite,
                "task": task,
                "label": label,
                "precision": float(precision),
                "recall": float(recall),
                "f1": float(f1_value),
                "support": int(n),
            }
            for label, precision, recall, f1_value, n in rows_out
        ]
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts, 0 where undefined (zero_division=0)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1


def field_report(
    rows: list[dict[str, Any]], versions: dict[str, SuiteVersion]
) -> list[dict[str, Any]]:
    """Per-field precision, recall and F1 for extraction, over all items that have the field,
    then field "(micro)": all fields of all items, unrequested predicted fields included."""
    counts: dict[tuple[str, str, str], list[int]] = {}

    def add(key: tuple[str, str, str], outcome: tuple[int, int, int]) -> None:
        totals = counts.setdefault(key, [0, 0, 0])
        for k in range(3):
            totals[k] += outcome[k]

    for r in rows:
        if r["task"] != "extraction" or r["output"] is None:
            continue
        item = versions[r["suite"]].by_id[r["item_id"]]
        predicted = predicted_fields(r["output"])  # parsed once for both counts
        for name, outcome in field_outcomes(item, predicted).items():  # type: ignore[arg-type]
            add((r["model"], r["suite"], name), outcome)
        add((r["model"], r["suite"], "(micro)"), field_counts(item, predicted))  # type: ignore[arg-type]
    out = []
    for (model, suite, name), (tp, fp, fn) in sorted(counts.items()):
        out.append(
            {
                "model": model,
                "suite": suite,
                "field": name,
                "precision": tp / (tp + fp) if tp + fp else 0.0,
                "recall": tp / (tp + fn) if tp + fn else 0.0,
                "f1": f1_from_counts(tp, fp, fn),
                "support": tp + fn,
            }
        )
    return out


def answer_report(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unreadable choice answers per model × suite × task, with the count of each reason."""
    groups: dict[tuple[str, str, str], tuple[list[int], Counter[str]]] = {}
    for r in rows:
        if r["task"] not in CHOICE_TASKS or r["output"] is None:
            continue
        counts, reasons = groups.setdefault(
            (r["model"], r["suite"], r["task"]), ([0, 0], Counter())
        )
        counts[0] += 1
        if r.get("answer") is None:
            counts[1] += 1
            reasons[r.get("answer_reason") or "no answer found"] += 1
    return [
        {
            "model": model,
            "suite": suite,
            "task": task,
            "n": n,
            "unreadable": unreadable,
            "share": unreadable / n if n else 0.0,
            "reasons": dict(reasons.most_common()),
        }
        for (model, suite, task), ([n, unreadable], reasons) in sorted(groups.items())
    ]


def unreadable_share(report: list[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Per model, over all its choice answers: how many, how many unreadable, and the share."""
    totals: dict[str, list[int]] = {}
    for r in report:
        t = totals.setdefault(r["model"], [0, 0])
        t[0] += r["n"]
        t[1] += r["unreadable"]
    return {
        model: {"n": n, "unreadable": u, "share": u / n if n else 0.0}
        for model, (n, u) in totals.items()
    }


def error_report(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items not answered per model × suite (their prompt could not fit the model's context,
    or their request failed), counted by kind of reason, with the item ids."""
    groups: dict[tuple[str, str], tuple[list[str], Counter[str]]] = {}
    for r in rows:
        if r.get("error"):
            ids, kinds = groups.setdefault((r["model"], r["suite"]), ([], Counter()))
            ids.append(r["item_id"])
            kinds[r["error"].split(":")[0]] += 1
    return [
        {"model": model, "suite": suite, "n": len(ids), "reasons": dict(kinds), "items": ids}
        for (model, suite), (ids, kinds) in sorted(groups.items())
    ]
