"""Gate a run against a stored one: `evalkit run ... gate.baseline_run=RUN` or `gate.baseline=TAG`.

The stored model is not regenerated: its run's generations and the new run's are gathered into
a comparison run (`evalkit.history.compare`) inside the new run folder (`gate/`), scored with
the stored model as the baseline. The candidates are the new run's models of the stored
model's name (every model of the new run when none has it); one that is significantly worse
(family-corrected) by more than `fail_on_regression` fails the gate. `gate.md` beside it is a
short Markdown summary for a pull-request comment. Exit codes: 0 passed, 1 regression, 2 bad
gate settings (the run itself is kept either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError, UsageError
from evalkit.history.compare import merge_runs, resolve_run
from evalkit.history.index import INDEX_FILE, RunIndex
from evalkit.runner.config import RunConfig
from evalkit.scoring.gate import regressions
from evalkit.scoring.run_folder import read_manifest
from evalkit.scoring.summary import choose_baseline

GATE_FOLDER = "gate"
GATE_SUMMARY = "gate.md"


@dataclass(frozen=True)
class StoredBaseline:
    run_dir: Path
    model: str
    setting: str  # how the user named it, for messages


@dataclass(frozen=True)
class GateOutcome:
    regressions: list[str]
    markdown: Path
    comparison: Path


def resolve_stored_baseline(config: RunConfig) -> StoredBaseline | None:
    """The stored run and model of the gate.* keys, checked before anything is generated."""
    gate = config.gate
    if not gate.active:
        return None
    if gate.baseline_run is not None and gate.baseline is not None:
        raise UsageError("gate.baseline_run and gate.baseline: give one of them")
    runs_dir = Path(config.out)
    if gate.baseline is not None:
        setting = f"gate.baseline={gate.baseline}"
        tags = {}
        if (runs_dir / INDEX_FILE).is_file():
            with RunIndex(runs_dir) as index:
                tags = index.tags()
        if gate.baseline not in tags:
            known = ", ".join(sorted(tags)) or "none"
            raise UsageError(
                f"{setting}: no run is tagged {gate.baseline!r} in {runs_dir} (tags: {known}; "
                f"evalkit runs --tag {gate.baseline}=RUN tags one)"
            )
        ref = tags[gate.baseline]
    else:
        ref = str(gate.baseline_run)
        setting = f"gate.baseline_run={ref}"
    try:
        run_dir = resolve_run(ref, runs_dir)
        manifest = read_manifest(run_dir)
    except EvalkitError as e:
        raise UsageError(f"{setting}: {e}") from None
    names = [m["name"] for m in manifest["models"]]
    model = gate.model or (
        names[0] if len(names) == 1 else choose_baseline(manifest["models"], None)
    )
    if model not in names:
        raise UsageError(f"gate.model={model}: not a model of {run_dir} ({', '.join(names)})")
    return StoredBaseline(run_dir, model, setting)


def gate_markdown(
    summary: dict[str, Any], stored: StoredBaseline, label: str, threshold: float, found: list[str]
) -> str:
    """The pull-request comment: every model × suite against the stored model, then the verdict."""
    family = summary["family"]
    scores = {(r["model"], r["suite"]): r["metrics"]["score"]["value"] for r in summary["by_suite"]}
    lines = [
        f"### evalkit gate: against {stored.model} of stored run `{stored.run_dir.name}`",
        "",
        "| suite | model | metric | stored | this run | Δ | 95% CI | adj. p | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in summary["comparisons"]:
        if c["metric"] != "score" or c["baseline"] != label:
            continue
        lines.append(
            f"| {c['suite']} | {c['candidate']} | score | {scores[(label, c['suite'])]:.3f} | "
            f"{scores[(c['candidate'], c['suite'])]:.3f} | {c['difference']:+.3f} | "
            f"[{c['low']:+.3f}, {c['high']:+.3f}] | {c['p_adjusted']:.3g} | {c['verdict']} |"
        )
    lines.append("")
    rule = (
        f"significantly worse ({family['correction']}-corrected over {family['comparisons']} "
        f"comparisons, alpha {family['alpha']}) by more than {threshold}"
    )
    if found:
        lines.append(f"**FAIL**: {len(found)} regression(s) {rule}:")
        lines += [f"- {r}" for r in found]
    else:
        lines.append(f"**PASS**: no model of this run is {rule}.")
    return "\n".join(lines) + "\n"


def gate_against_stored(
    run_dir: Path, stored: StoredBaseline, config: RunConfig, suites_dir: Path | None = None
) -> GateOutcome:
    """Compare the scored run `run_dir` with the stored model; write gate/ and gate.md."""
    from evalkit.scoring import score_run

    comparison = merge_runs(
        [stored.run_dir, run_dir],
        run_dir / GATE_FOLDER,
        suites_dir=suites_dir,
        only={stored.run_dir: [stored.model]},
        dedupe=False,
    )
    models = read_manifest(comparison)["models"]
    label = next(m["name"] for m in models if m["run"] == stored.run_dir.name)
    ours = [m for m in models if m["run"] == run_dir.name]
    candidates = {m["name"] for m in ours if m["name_in_run"] == stored.model} or {
        m["name"] for m in ours
    }
    summary = score_run(
        comparison, suites_dir, label, config.resamples, config.seed, config.scoring_only()
    )
    threshold = config.fail_on_regression or 0.0
    summary["comparisons"] = [c for c in summary["comparisons"] if c["candidate"] in candidates]
    found = regressions(summary, threshold)
    markdown = run_dir / GATE_SUMMARY
    markdown.write_text(gate_markdown(summary, stored, label, threshold, found), encoding="utf-8")
    return GateOutcome(found, markdown, comparison)
