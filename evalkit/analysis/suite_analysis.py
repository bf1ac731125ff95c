"""`evalkit suite analyze`: what the stored runs of one suite version say about its items.

Gathers the runs (evalkit.analysis.responses), computes the classical item statistics and
their flags, an IRT fit when there are enough models, suspected wrong gold answers, near-
duplicate items and the suite's coverage, and returns them as one `SuiteAnalysis` that the
CLI prints, writes as JSON, and the app's reviewers read. Nothing here changes a suite.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.analysis.classical import ItemStats, item_statistics
from evalkit.analysis.coverage import Slice, suite_coverage
from evalkit.analysis.irt import IrtFit, fit_irt, irt_model_for, irt_refusal
from evalkit.analysis.labels import Suspect, suspected_label_errors
from evalkit.analysis.responses import ResponseMatrix, gather_responses
from evalkit.suite.checks import near_duplicate_pairs
from evalkit.suite.store import SuiteVersion

ANALYSIS_FORMAT = "evalkit.suite-analysis/1"
SUSPECTED_DUPLICATE = 0.85  # publishing refuses 0.9; between them, a pair is worth a look


@dataclass
class SuiteAnalysis:
    suite: str  # NAME@vN
    content_hash: str
    runs: list[str]
    models: list[str]
    abilities: dict[str, float]  # IRT theta, or empty
    model_scores: dict[str, float]  # mean score on the analysed items
    irt: str  # "1pl", "2pl" or why none was fitted
    items: list[ItemStats]
    suspects: list[Suspect]
    coverage: list[Slice]
    notes: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    @property
    def flagged(self) -> list[ItemStats]:
        return [i for i in self.items if i.flags]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["format"] = ANALYSIS_FORMAT
        return _finite(out)


def _finite(value: Any) -> Any:
    """NaN and infinity are not JSON: None in their place."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _add_irt(items: list[ItemStats], fit: IrtFit) -> None:
    for stats in items:
        params = fit.items.get(stats.item_id)
        if params is not None:
            stats.irt = {
                "difficulty": params.difficulty,
                "discrimination": params.discrimination,
                "information": params.information,
            }


def _add_duplicates(matrix: ResponseMatrix, items: list[ItemStats]) -> None:
    """Near-duplicate pairs that the models also answer alike: the second measures nothing
    the first does not (templated items that differ in a name are not flagged when the
    models tell them apart). With fewer than `MIN_MODELS_DISCRIMINATION` models, score
    patterns coincide by chance too often to mean anything, and no pair is flagged."""
    import numpy as np

    from evalkit.analysis.classical import MIN_MODELS_DISCRIMINATION

    if len(matrix.respondents) < MIN_MODELS_DISCRIMINATION:
        return
    texts = [item.input_text() for item in matrix.items]
    for i, j, similarity in near_duplicate_pairs(texts, SUSPECTED_DUPLICATE):
        a, b = matrix.scores[:, i], matrix.scores[:, j]
        informative = np.nanstd(a) > 0  # else no_information says it already
        if not informative or not np.array_equal(a, b, equal_nan=True):
            continue
        for x, y in ((i, j), (j, i)):
            items[x].flags.append(
                {
                    "flag": "near_duplicate",
                    "evidence": f"text {similarity:.2f} similar to {matrix.items[y].id!r}, and "
                    f"every model scores the two alike",
                    "other": matrix.items[y].id,
                }
            )


def _add_suspects(items: list[ItemStats], suspects: list[Suspect]) -> None:
    by_id = {s.item_id: s for s in items}
    for suspect in suspects:
        if suspect.flagged:
            by_id[suspect.item_id].flags.append(
                {
                    "flag": "suspected_wrong_gold",
                    "evidence": suspect.evidence,
                    "suspected": suspect.suspected,
                }
            )


def analyze_suite(
    version: SuiteVersion, run_dirs: list[Path], *, irt_epochs: int | None = None
) -> SuiteAnalysis:
    """The item statistics, flags, suspects and coverage of `version` over `run_dirs`."""
    matrix = gather_responses(version, run_dirs)
    return analyze_matrix(version, matrix, irt_epochs=irt_epochs)


def analyze_matrix(
    version: SuiteVersion,
    matrix: ResponseMatrix,
    *,
    irt_epochs: int | None = None,
    irt: bool = True,
) -> SuiteAnalysis:
    """The analysis of an already gathered matrix (see `analyze_suite`); `irt=False` skips
    the IRT fit (the report's item health, which must stay fast)."""
    import numpy as np

    from evalkit.analysis.classical import MIN_MODELS_DISCRIMINATION, row_means

    items = item_statistics(matrix)
    notes: list[str] = []
    n_models = len(matrix.respondents)
    abilities: dict[str, float] = {}
    model_type = irt_model_for(n_models)
    if not irt:
        fitted = "not fitted here (evalkit suite analyze fits it)"
    elif model_type is None:
        fitted = irt_refusal(n_models)
        notes.append(fitted)
    else:
        try:
            kwargs = {} if irt_epochs is None else {"epochs": irt_epochs}
            fit = fit_irt(matrix, model_type, **kwargs)
        except ValueError as e:
            fitted, fit = str(e), None
            notes.append(fitted)
        except ImportError as e:
            fitted, fit = f"IRT not fitted: {e.name} is not installed (scripts/install.sh)", None
            notes.append(fitted)
        if fit is not None:
            fitted = fit.model_type
            abilities = fit.abilities
            _add_irt(items, fit)
    if n_models < MIN_MODELS_DISCRIMINATION:
        notes.append(
            f"discrimination and near-duplicates not flagged: {n_models} model(s), fewer than "
            f"{MIN_MODELS_DISCRIMINATION}; item-rest correlations shown for reference"
        )
    suspects = suspected_label_errors(matrix)
    _add_suspects(items, suspects)
    _add_duplicates(matrix, items)
    means = row_means(matrix.scores)
    return SuiteAnalysis(
        version.ref,
        version.manifest.content_hash,
        [str(p) for p in matrix.runs],
        matrix.labels,
        abilities,
        {label: float(v) for label, v in zip(matrix.labels, means, strict=True) if not np.isnan(v)},
        fitted,
        items,
        suspects,
        suite_coverage(version, matrix),
        notes,
    )
