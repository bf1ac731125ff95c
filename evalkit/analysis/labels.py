"""Suspected wrong gold answers: suspicions for an expert to check, never changes.

Two kinds of evidence:

- **Option probabilities** (choices scored by log-likelihood): the models' probabilities per
  option, averaged over the models, go to cleanlab's confident learning (Northcutt, Jiang &
  Chuang 2021): `get_label_quality_scores` ranks items by how little the models believe the
  gold option (self-confidence), and `find_label_issues` says which of them the confident
  joint counts as likely mislabelled. cleanlab needs one class set per call: mcq items are
  grouped by option count (the classes are the positions), classification items by label set,
  and a group needs `MIN_ITEMS_PER_CLASS_SET` items.
- **Agreeing answers** (generated choices and short answers): several models give the same
  answer, that answer is not the gold, and the models that give it are strong on the task:
  their mean score on the task's other items is at least `MIN_STRENGTH`. Weak models agreeing
  on a wrong answer share a bias (the same default label), which says nothing about the gold.
  Suspicion = the share of models with a readable answer that agree, times their mean
  strength. Flagged at `MIN_AGREEING` strong models and half or more of those that answered.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evalkit.analysis.classical import row_means
from evalkit.analysis.responses import ResponseMatrix, item_options

MIN_AGREEING = 3  # strong models that must agree on the same non-gold answer
MIN_SHARE = 0.5  # of the models with a readable answer
MIN_STRENGTH = 0.5  # an agreeing model's mean score on the task's other items
MIN_ITEMS_PER_CLASS_SET = 10  # cleanlab needs some items per class set to estimate noise


@dataclass
class Suspect:
    item_id: str
    gold: str
    suspected: str  # the answer the models converge on
    suspicion: float  # 0-1, for ranking
    method: str  # "confident_learning" or "agreement"
    evidence: str
    answers: dict[str, str | None] = field(default_factory=dict)  # model → its answer
    flagged: bool = True  # False: ranked, but below the flagging rule


def task_strength(matrix: ResponseMatrix, j: int) -> np.ndarray:
    """Each model's mean score on the other items of item j's task (NaN without any)."""
    task = matrix.items[j].task
    others = [k for k, item in enumerate(matrix.items) if item.task == task and k != j]
    return row_means(matrix.scores[:, others])


def agreement_suspects(matrix: ResponseMatrix) -> list[Suspect]:
    """Items where several strong models agree on one answer that is not the gold."""
    out = []
    for j, item in enumerate(matrix.items):
        gold = matrix.gold(item)
        if gold is None:
            continue
        answers = {
            matrix.labels[m]: matrix.answers[m][j]
            for m in range(len(matrix.respondents))
            if not math.isnan(matrix.scores[m, j])
        }
        readable = [a for a in answers.values() if a is not None]
        wrong = Counter(a for a in readable if a != gold)
        if not wrong:
            continue
        answer = wrong.most_common(1)[0][0]
        strength = task_strength(matrix, j)
        agreeing = [
            m
            for m, label in enumerate(matrix.labels)
            if answers.get(label) == answer and strength[m] >= MIN_STRENGTH
        ]
        if len(agreeing) < MIN_AGREEING or len(agreeing) < MIN_SHARE * len(readable):
            continue
        mean_strength = float(np.mean(strength[agreeing]))
        names = ", ".join(matrix.labels[m] for m in agreeing)
        out.append(
            Suspect(
                item.id,
                gold,
                answer,
                len(agreeing) / len(readable) * mean_strength,
                "agreement",
                f"{len(agreeing)} of {len(readable)} models answer {answer!r}, gold is {gold!r} "
                f"({names}; their mean score on the other {item.task} items "
                f"{mean_strength:.2f})",
                answers,
            )
        )
    return sorted(out, key=lambda s: -s.suspicion)


def confident_learning_suspects(matrix: ResponseMatrix) -> list[Suspect]:
    """Log-likelihood items ranked by cleanlab's label quality; its label issues flagged."""
    if not matrix.option_probs:  # no run scored choices by log-likelihood
        return []
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    groups: dict[tuple[str, ...], list[tuple[int, Any, np.ndarray]]] = {}
    for j, item in enumerate(matrix.items):
        probs = matrix.option_probs.get(item.id)
        gold = matrix.gold(item)
        if probs is None or gold is None:
            continue
        rows = probs[~np.isnan(probs).any(axis=1)]
        if rows.size == 0:
            continue
        # one class set per call: mcq by option count (classes are positions), a
        # classification task by its label set
        options = item_options(item)
        key = (item.task, str(len(options))) if item.task == "mcq" else (item.task, *options)
        groups.setdefault(key, []).append((j, item, rows.mean(axis=0)))
    out = []
    for key, entries in sorted(groups.items()):
        if len(entries) < MIN_ITEMS_PER_CLASS_SET:
            continue
        pred_probs = np.vstack([p for _, _, p in entries])
        labels = np.array(
            [item_options(item).index(str(matrix.gold(item))) for _, item, _ in entries]
        )
        quality = get_label_quality_scores(labels, pred_probs, method="self_confidence")
        issues = set(np.flatnonzero(find_label_issues(labels, pred_probs)).tolist())
        for n, (_, item, probs) in enumerate(entries):
            options = item_options(item)
            top = int(np.argmax(probs))
            if top == labels[n]:
                continue
            out.append(
                Suspect(
                    item.id,
                    options[labels[n]],
                    options[top],
                    float(1 - quality[n]),
                    "confident_learning",
                    f"the models give the gold {options[labels[n]]!r} probability "
                    f"{probs[labels[n]]:.2f} and {options[top]!r} {probs[top]:.2f} (mean over "
                    f"models; ranked among {len(entries)} {key[0]} items)",
                    flagged=n in issues,
                )
            )
    return sorted(out, key=lambda s: -s.suspicion)


def suspected_label_errors(matrix: ResponseMatrix) -> list[Suspect]:
    """Both kinds of suspects, one per item (confident learning first), most suspect first."""
    seen: set[str] = set()
    out = []
    for suspect in confident_learning_suspects(matrix) + agreement_suspects(matrix):
        if suspect.item_id not in seen:
            seen.add(suspect.item_id)
            out.append(suspect)
    return sorted(out, key=lambda s: (not s.flagged, -s.suspicion))
