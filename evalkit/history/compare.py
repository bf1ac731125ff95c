"""`evalkit compare`: models of several stored runs compared on the items they share.

The runs' generations are gathered into one new run folder — a comparison run — whose
manifest lists every model once, so that scoring, its paired statistics and their
correction for multiple comparisons, and the report apply unchanged; no engine starts.
Runs are compared only when they ran the same suite versions under the same generation
settings; otherwise the refusal names both sides. With `shared_items`, runs of different
versions of a suite are compared on the items the versions share unchanged.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.errors import ImmutableError, NotFoundError, UsageError
from evalkit.history.index import RUN_MARKER, run_status
from evalkit.scoring.run_folder import MANIFEST_FILE, generations_path, read_manifest
from evalkit.suite.store import SuiteStore, SuiteVersion

# Settings that change what a model generates: two runs that differ in one are not comparable.
GENERATION_SETTINGS = (
    "max_new_tokens",
    "temperature",
    "top_p",
    "fewshot",
    "mcq_mode",
    "truncate",
    "backend",
)


@dataclass(frozen=True)
class SourceModel:
    run_dir: Path
    record: dict[str, Any]
    label: str  # the model's name in the comparison run


def resolve_run(ref: str, runs_dir: Path) -> Path:
    """A run folder given as a path or as a run id in `runs_dir`; finished runs only."""
    path = Path(ref)
    if not path.is_dir():
        path = runs_dir / ref
    if not path.is_dir():
        raise NotFoundError(f"{ref}: no such run folder (nor a run id in {runs_dir})")
    status = run_status(path)
    if status == "incomplete":
        raise UsageError(
            f"{path}: incomplete (killed before it finished); rerun it with run_id={path.name}"
        )
    if status == "other":
        raise NotFoundError(f"{path}: not a run folder (no {MANIFEST_FILE})")
    return path


def _setting_conflicts(manifests: dict[Path, dict[str, Any]]) -> list[str]:
    conflicts = []
    for key in GENERATION_SETTINGS:
        values = {str(run.name): m["config"].get(key) for run, m in manifests.items()}
        if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
            sides = ", ".join(f"{run} {key}={value}" for run, value in values.items())
            conflicts.append(f"{key} differs ({sides})")
    return conflicts


def _item_key(item: Any) -> str:
    return json.dumps(item.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


def _common_suites(
    manifests: dict[Path, dict[str, Any]], store: SuiteStore, shared_items: bool
) -> tuple[list[SuiteVersion], dict[str, dict[str, str]], dict[str, set[str] | None]]:
    """The suites every run ran: the version the comparison uses, each run's ref, and the
    item ids compared (None: every item)."""
    refs: dict[str, dict[str, str]] = {}
    hashes: dict[str, set[str]] = {}
    for run, manifest in manifests.items():
        for s in manifest["suites"]:
            refs.setdefault(s["name"], {})[run.name] = f"{s['name']}@{s['version']}"
            hashes.setdefault(s["name"], set()).add(s["content_hash"])
    common = [name for name, by_run in refs.items() if len(by_run) == len(manifests)]
    if not common:
        ran = "; ".join(
            f"{run.name}: {', '.join(s['name'] for s in m['suites'])}"
            for run, m in manifests.items()
        )
        raise UsageError(f"the runs share no suite ({ran})")
    versions: list[SuiteVersion] = []
    items: dict[str, set[str] | None] = {}
    for name in common:
        by_run = refs[name]
        newest = store.load(list(by_run.values())[-1])
        if len(set(by_run.values())) == 1 and len(hashes[name]) == 1:
            versions.append(newest)
            items[newest.ref] = None
            continue
        sides = ", ".join(f"{run} ran {ref}" for run, ref in by_run.items())
        if not shared_items:
            raise UsageError(
                f"{name}: {sides}; compare runs of the same version, or add --shared-items "
                "to compare the items the versions share unchanged"
            )
        keys = [
            {i.id: _item_key(i) for i in store.load(ref).items if i.split == "test"}
            for ref in by_run.values()
        ]
        shared = {i for i, k in keys[0].items() if all(other.get(i) == k for other in keys[1:])}
        if not shared:
            raise UsageError(f"{name}: {sides}, and no test item is the same in both")
        versions.append(newest)
        items[newest.ref] = shared
    return versions, refs, items


def _sources(
    manifests: dict[Path, dict[str, Any]], only: dict[Path, list[str]], dedupe: bool
) -> list[SourceModel]:
    """Every model once (`only`: just these of a run): with `dedupe`, the same name and
    weights in several runs count once; names that clash become NAME.RUN."""
    seen: dict[tuple[str, str | None, str], SourceModel] = {}
    for run, manifest in manifests.items():
        names = [m["name"] for m in manifest["models"]]
        for name in only.get(run, []):
            if name not in names:
                raise UsageError(f"{run}: has no model {name!r} ({', '.join(names)})")
        for record in manifest["models"]:
            if run in only and record["name"] not in only[run]:
                continue
            key = (record["name"], record.get("fingerprint"), "" if dedupe else run.name)
            if key not in seen:
                seen[key] = SourceModel(run, record, record["name"])
    names = [s.label for s in seen.values()]
    return [
        s
        if names.count(s.label) == 1
        else SourceModel(s.run_dir, s.record, f"{s.label}.{s.run_dir.name}")
        for s in seen.values()
    ]


def _generations(source: SourceModel, ref_in_run: str) -> list[dict[str, Any]]:
    path = generations_path(source.run_dir, source.record["name"], ref_in_run)
    if not path.is_file():
        raise NotFoundError(f"{path}: the run's generations of {ref_in_run} are missing")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _write_generations(rows: list[dict[str, Any]], path: Path, ref: str, keep: set[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            if row.get("item_id") in keep:
                row = {**row, "suite": ref} if "suite" in row else row  # the compared version
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def merge_runs(
    run_dirs: list[Path],
    out: Path,
    *,
    suites_dir: Path | None = None,
    shared_items: bool = False,
    only: dict[Path, list[str]] | None = None,
    dedupe: bool = True,
) -> Path:
    """Write the comparison run of `run_dirs` into the new folder `out` (not scored yet);
    `only`: the models to take from a run (default all); `dedupe`: count a model with the
    same name and weights in several runs once."""
    if len(set(run_dirs)) < 2:
        raise UsageError("compare needs at least two different runs")
    if out.exists():
        raise ImmutableError(f"{out}: exists; choose another output folder")
    manifests = {run: read_manifest(run) for run in run_dirs}
    first = manifests[run_dirs[0]]
    store = SuiteStore(suites_dir or first["config"]["suites_dir"])
    conflicts = _setting_conflicts(manifests)
    if conflicts:
        raise UsageError(f"the runs were generated differently: {'; '.join(conflicts)}")
    versions, refs, items = _common_suites(manifests, store, shared_items)
    sources = _sources(manifests, only or {}, dedupe)
    out.mkdir(parents=True)
    try:
        (out / RUN_MARKER).write_text("comparison\n", encoding="utf-8")
        compared: dict[str, int] = {}
        for version in versions:
            rows = {s.label: _generations(s, refs[version.name][s.run_dir.name]) for s in sources}
            keep = set.intersection(*({r["item_id"] for r in rs} for rs in rows.values()))
            shared = items[version.ref]
            if shared is not None:
                keep &= shared
            if not keep:
                raise UsageError(f"{version.name}: the runs answered no item in common")
            compared[version.ref] = len(keep)
            for label, model_rows in rows.items():
                path = generations_path(out, label, version.ref)
                _write_generations(model_rows, path, version.ref, keep)
        models = []
        for source in sources:
            labels = {s.record["name"]: s.label for s in sources if s.run_dir == source.run_dir}
            record = {
                **source.record,
                "name": source.label,
                "run": source.run_dir.name,
                "name_in_run": source.record["name"],
            }
            record["starting_model"] = labels.get(source.record.get("starting_model") or "")
            record["baseline"] = None
            models.append(record)
        manifest = {
            "run_id": out.name,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "ended_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "config": {**first["config"], "suites_dir": str(store.root)},
            "suites": [v.run_record() for v in versions],
            "models": models,
            "compared": {"runs": [str(r) for r in run_dirs], "items": compared},
        }
        (out / MANIFEST_FILE).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


@dataclass(frozen=True)
class ComparisonRun:
    run_dir: Path
    summary: dict[str, Any]
    registered: str | None  # what the run index said, if anything


def compare_runs(
    run_refs: list[str],
    runs_dir: Path,
    *,
    out: Path | None = None,
    baseline: str | None = None,
    shared_items: bool = False,
    suites_dir: Path | None = None,
    resamples: int = 1000,
) -> ComparisonRun:
    """Gather the runs into a comparison run (default `runs_dir/compare-A-B`), score it and
    register it; the report is left to the caller. A failure leaves nothing behind."""
    from evalkit.history.index import register_run
    from evalkit.outputs import check_output
    from evalkit.scoring import score_run

    run_dirs = [resolve_run(ref, runs_dir) for ref in run_refs]
    out = out or runs_dir / "compare-{}".format("-".join(p.name for p in run_dirs))
    check_output(out, "folder", option="-o")
    merged = merge_runs(run_dirs, out, suites_dir=suites_dir, shared_items=shared_items)
    try:
        summary = score_run(merged, suites_dir, baseline, resamples)
    except BaseException:  # a bad baseline, say: no half-made comparison is left behind
        shutil.rmtree(merged, ignore_errors=True)
        raise
    return ComparisonRun(merged, summary, register_run(merged))
