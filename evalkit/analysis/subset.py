"""Anchor subsets: estimate a model's full-suite score from K well-chosen items.

After tinyBenchmarks (Polo et al. 2024). Items are fitted by IRT (joint MAP,
`evalkit.analysis.irt_map`), grouped by k-means on (difficulty, log discrimination), and
the K anchors are a stratified sample of those groups: each group gets anchors in proportion
to its size, drawn at random within it, and each anchor stands for its share of its group.
A new model answers the anchors only; its score on the whole suite is estimated two ways and
blended with a fixed weight `BLEND` (their gp-IRT):

- stratified: the anchors' results weighted by the items each stands for;
- p-IRT: the model's ability by MAP from its anchor answers (a normal prior fitted to the
  analysed models' abilities), then P(right) of every item it did not answer.

The estimate is of the share of test items answered right (score >= 0.5; accuracy for choice
tasks), and it is only as good as its validation: leave each analysed model out, refit,
choose anchors, estimate its score from them and compare with its real full-suite score.
The mean absolute error is reported beside that of K random items, and a subset that does
no better than random says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.analysis.irt import MIN_MODELS, IrtFit, binary_responses, irt_model_for
from evalkit.analysis.irt_map import fit_irt_map
from evalkit.analysis.responses import ResponseMatrix
from evalkit.errors import UsageError
from evalkit.suite.store import SuiteVersion

SUBSET_FORMAT = "evalkit.suite-subset/1"
BLEND = 0.5  # weight of the stratified estimate in the gp-IRT blend
RANDOM_DRAWS = 400  # random K-item subsets per left-out model, for the baseline error


@dataclass(frozen=True)
class LooCase:
    """One left-out model: its real share right, the anchors' estimate, and the mean absolute
    error K random items would have made."""

    model: str
    actual: float
    estimate: float
    random_error: float

    @property
    def error(self) -> float:
        return abs(self.estimate - self.actual)


@dataclass
class AnchorSubset:
    """K anchor items of one suite version and what is needed to estimate from them."""

    suite: str  # NAME@vN
    content_hash: str
    model_type: str  # the IRT model the anchors come from
    anchors: dict[str, float]  # anchor item id → items of the suite it stands for
    params: dict[str, tuple[float, float]]  # fitted item id → (difficulty, discrimination)
    fixed: dict[str, float]  # items no analysed model answered (counted as wrong)
    prior: tuple[float, float]  # mean and sd of the analysed models' abilities
    models: list[str]
    runs: list[str]
    validation: list[LooCase] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())

    @property
    def k(self) -> int:
        return len(self.anchors)

    @property
    def total_items(self) -> int:
        return len(self.params) + len(self.fixed)

    @property
    def mae(self) -> float:
        return float(np.mean([c.error for c in self.validation])) if self.validation else math.nan

    @property
    def random_mae(self) -> float:
        cases = self.validation
        return float(np.mean([c.random_error for c in cases])) if cases else math.nan

    @property
    def better_than_random(self) -> bool:
        return bool(self.validation) and self.mae < self.random_mae

    def estimate(self, responses: dict[str, float]) -> float:
        """The estimated share right on the whole suite from anchor results (1 right, 0
        wrong; anchors missing from `responses` are predicted from the ability)."""
        theta = map_ability(self, responses)
        predicted = {i: _p(self.params[i], theta) for i in self.params}
        known = {i: responses[i] for i in self.anchors if i in responses}
        stratified = sum(self.fixed.values()) + sum(
            weight * known.get(i, predicted[i]) for i, weight in self.anchors.items()
        )
        p_irt = sum(self.fixed.values()) + sum(known.get(i, p) for i, p in predicted.items())
        return (BLEND * stratified + (1 - BLEND) * p_irt) / self.total_items

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(format=SUBSET_FORMAT, k=self.k, mae=self.mae, random_mae=self.random_mae)
        out["validation"] = [{**asdict(c), "error": c.error} for c in self.validation]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnchorSubset:
        if data.get("format") != SUBSET_FORMAT:
            raise ValueError(f"not an evalkit subset file (format {data.get('format')!r})")
        fields = set(cls.__dataclass_fields__) - {"validation"}
        subset = cls(**{k: data[k] for k in fields})
        subset.params = {i: (float(b), float(a)) for i, (b, a) in subset.params.items()}
        subset.prior = (float(subset.prior[0]), float(subset.prior[1]))
        cases = [
            {k: c[k] for k in ("model", "actual", "estimate", "random_error")}
            for c in data["validation"]
        ]
        subset.validation = [LooCase(**c) for c in cases]
        return subset


def _p(params: tuple[float, float], theta: float) -> float:
    b, a = params
    return 1 / (1 + math.exp(-a * (theta - b)))


def map_ability(subset: AnchorSubset, responses: dict[str, float]) -> float:
    """The maximum a posteriori ability given the answered fitted anchors."""
    from scipy.optimize import minimize_scalar

    answered = [(subset.params[i], y) for i, y in responses.items() if i in subset.params]
    mean, sd = subset.prior

    def loss(theta: float) -> float:
        total = (theta - mean) ** 2 / (2 * sd * sd)
        for params, y in answered:
            p = min(max(_p(params, theta), 1e-9), 1 - 1e-9)
            total -= y * math.log(p) + (1 - y) * math.log(1 - p)
        return total

    return float(minimize_scalar(loss, bounds=(mean - 8 * sd, mean + 8 * sd)).x)


def _allocate(sizes: list[int], k: int) -> list[int]:
    """k anchors over strata of `sizes`, proportional (largest remainder), at least one each."""
    n = sum(sizes)
    shares = [max(1.0, k * size / n) for size in sizes]
    counts = [min(size, int(share)) for size, share in zip(sizes, shares, strict=True)]
    while sum(counts) > k:  # the one-each floor overshot: take from the largest allocations
        counts[max(range(len(counts)), key=lambda s: counts[s])] -= 1
    order = sorted(range(len(sizes)), key=lambda s: shares[s] - int(shares[s]), reverse=True)
    while sum(counts) < k:
        for s in order:
            if sum(counts) < k and counts[s] < sizes[s]:
                counts[s] += 1
    return counts


def choose_anchors(fit: IrtFit, k: int, seed: int = 0) -> dict[str, float]:
    """k anchors, a stratified sample: strata by k-means on standardised (difficulty, log
    discrimination), anchors allocated in proportion to stratum size and drawn at random
    within it; each anchor stands for its stratum's size over its stratum's anchors."""
    from sklearn.cluster import KMeans

    ids = sorted(fit.items)
    if k >= len(ids):
        raise UsageError(
            f"k={k}: not smaller than the {len(ids)} test items the runs answered; "
            "run the whole suite instead"
        )
    columns = [[fit.items[i].difficulty for i in ids]]
    if fit.model_type == "2pl":
        columns.append([math.log(max(fit.items[i].discrimination, 1e-6)) for i in ids])
    x = np.array(columns).T
    x = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)
    # few models leave few distinct difficulties (a 1PL's is set by how many got it right)
    strata = min(k, len(np.unique(x.round(6), axis=0)))
    labels = KMeans(n_clusters=strata, n_init=4, random_state=seed).fit(x).labels_
    members = [np.flatnonzero(labels == c) for c in range(strata)]
    members = [m for m in members if m.size]
    rng = np.random.default_rng(seed)
    anchors: dict[str, float] = {}
    for group, count in zip(members, _allocate([m.size for m in members], k), strict=True):
        for j in rng.choice(group, count, replace=False):
            anchors[ids[int(j)]] = group.size / count
    return anchors


def subset_from_fit(matrix: ResponseMatrix, fit: IrtFit, k: int, seed: int = 0) -> AnchorSubset:
    """The anchor subset of a fitted matrix (no validation yet)."""
    binary = binary_responses(matrix)
    column = {item.id: j for j, item in enumerate(matrix.items)}
    fixed = {i: float(np.nanmean(binary[:, column[i]])) for i in fit.left_out}
    thetas = np.array(list(fit.abilities.values()))
    return AnchorSubset(
        suite=matrix.version.ref,
        content_hash=matrix.version.manifest.content_hash,
        model_type=fit.model_type,
        anchors=choose_anchors(fit, k, seed),
        params={i: (p.difficulty, p.discrimination) for i, p in fit.items.items()},
        fixed={i: 0.0 if math.isnan(v) else v for i, v in fixed.items()},
        prior=(float(thetas.mean()), float(max(thetas.std(ddof=1), 0.5))),
        models=matrix.labels,
        runs=[str(p) for p in matrix.runs],
    )


def _without(matrix: ResponseMatrix, m: int) -> ResponseMatrix:
    keep = [r for r in range(len(matrix.respondents)) if r != m]
    return replace(
        matrix,
        respondents=[matrix.respondents[r] for r in keep],
        scores=matrix.scores[keep],
        formats=matrix.formats[keep],
        answers=[matrix.answers[r] for r in keep],
        outputs=[matrix.outputs[r] for r in keep],
        option_probs={i: p[keep] for i, p in matrix.option_probs.items()},
    )


def min_models_for_subset() -> int:
    """Models a validated subset needs: enough for a 1PL fit with one left out."""
    return MIN_MODELS["1pl"] + 1


def choose_subset(
    matrix: ResponseMatrix,
    k: int,
    *,
    seed: int = 0,
) -> AnchorSubset:
    """Anchors from the fit on every model, validated by leaving each model out in turn."""
    n_models = len(matrix.respondents)
    model_type = irt_model_for(n_models - 1)
    if model_type is None:
        raise UsageError(
            f"a subset needs at least {min_models_for_subset()} models (an IRT fit on "
            f"{MIN_MODELS['1pl']}, one more left out to validate it); the runs have {n_models}"
        )

    def fit(m: ResponseMatrix) -> IrtFit:
        try:
            return fit_irt_map(m, model_type)
        except ValueError as e:
            raise UsageError(str(e)) from None

    subset = subset_from_fit(matrix, fit(matrix), k, seed)
    binary = binary_responses(matrix)
    rng = np.random.default_rng(seed)
    for m, label in enumerate(matrix.labels):
        row = binary[m]
        answered = np.flatnonzero(~np.isnan(row))
        if answered.size <= k:
            continue
        held_out = subset_from_fit(_without(matrix, m), fit(_without(matrix, m)), k, seed)
        column = {item.id: j for j, item in enumerate(matrix.items)}
        responses = {
            i: float(row[column[i]]) for i in held_out.anchors if not np.isnan(row[column[i]])
        }
        actual = float(row[answered].mean())
        draws = [row[rng.choice(answered, k, replace=False)].mean() for _ in range(RANDOM_DRAWS)]
        random_error = float(np.mean(np.abs(np.array(draws) - actual)))
        subset.validation.append(LooCase(label, actual, held_out.estimate(responses), random_error))
    return subset


def subset_lines(subset: AnchorSubset) -> list[str]:
    """What `evalkit suite subset` prints."""
    lines = [
        f"{subset.suite}: {subset.k} anchor items of {subset.total_items} "
        f"({subset.model_type.upper()} fit on {len(subset.models)} models)",
        "leave-one-model-out: real share right, estimate from the anchors, error "
        "(K random items' mean error)",
    ]
    for c in subset.validation:
        lines.append(
            f"  {c.model}: {c.actual:.3f}  estimate {c.estimate:.3f}  error {c.error:.3f} "
            f"(random {c.random_error:.3f})"
        )
    lines.append(
        f"mean absolute error {subset.mae:.3f}; {subset.k} random items: {subset.random_mae:.3f}"
    )
    if not subset.better_than_random:
        lines.append(
            f"warning: these anchors estimate no better than {subset.k} random items would; "
            "more models (or a larger k) give the IRT fit more to go on"
        )
    return lines


def read_subset(path: Path, setting: str = "subset") -> AnchorSubset:
    """A subset file, or a one-line UsageError naming the setting and the file."""
    import json

    try:
        return AnchorSubset.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UsageError(f"{setting}={path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(
            f"{setting}={path}: not a subset file from evalkit suite subset ({reason})"
        ) from None


def subset_for_run(path: Path, versions: list[SuiteVersion]) -> AnchorSubset:
    """The subset file of `evalkit run ... subset=PATH`, checked against the run's suites."""
    subset = read_subset(path)
    match = [v for v in versions if v.ref == subset.suite]
    if not match:
        refs = ", ".join(v.ref for v in versions)
        raise UsageError(f"subset={path}: its anchors are items of {subset.suite}, not of {refs}")
    published = match[0].manifest.content_hash
    if published != subset.content_hash:
        raise UsageError(
            f"subset={path}: chosen on a {subset.suite} with content hash "
            f"{subset.content_hash[:19]}..., not the published {published[:19]}..."
        )
    missing = sorted(set(subset.anchors) - {i.id for i in match[0].items if i.split == "test"})
    if missing:
        raise UsageError(f"subset={path}: anchors not in {subset.suite}: {', '.join(missing)}")
    return subset
