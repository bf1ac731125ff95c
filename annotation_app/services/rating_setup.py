"""Setting up expert rating: load a scored run folder, choose a suite of the run, its items,
the mode and the raters, and give each unit (item × model, or item × pair of models) to N
raters, each with an order of their own.

A run folder is read with evalkit's own readers (`evalkit.scoring.run_folder`): its manifest,
its scores (a run not scored yet is refused), each suite version from the app's store checked
against the hashes the run recorded, and the generations checked against the suite. The items
and outputs are copied into the database, so a set is rated as it was loaded.

Blind and stable: each rater's order of items, of an item's outputs and (pairwise) which
output is A comes from a generator seeded with the set's seed and the rater's name; it is
stored with the assignment, so every rerun of the page shows the same order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from annotation_app.errors import BadRunFolder, InvalidInput
from annotation_app.models import RatingAssignment, RatingMode, RatingSet, RatingUnit, User
from annotation_app.permissions import Action, allowed
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.rating_results import RatingSetView, set_view
from evalkit.errors import EvalkitError, Problem
from evalkit.scoring.run_folder import (
    MANIFEST_FILE,
    SUMMARY_FILE,
    load_run,
    read_generations,
    read_manifest,
    scored_files,
)
from evalkit.suite.items import ItemBase, item_to_record
from evalkit.suite.store import SuiteStore, SuiteVersion

OPEN_ENDED = ("generation", "dialogue")  # the tasks rated by default
SETUP = "rating set"  # the `where` of set-up problems
MAX_NAME = 200  # characters of a set's name (its column)


@dataclass(frozen=True)
class RunFolder:
    """A folder of the runs folder that holds a run."""

    name: str
    path: str
    scored: bool


@dataclass(frozen=True)
class RunSuite:
    """A suite version of a run: its test items per task, the rubric's criteria per task."""

    ref: str
    content_hash: str
    items: dict[str, list[str]]  # task -> test item ids, in the suite's order
    criteria: dict[str, list[str]]  # task -> names of the criteria that rate it


@dataclass(frozen=True)
class RunInfo:
    """A scored run folder, checked against the store."""

    path: str
    run_id: str
    models: list[str]
    suites: list[RunSuite]


@dataclass(frozen=True)
class SetUp:
    """What a rating set rates, and by whom."""

    run_dir: str
    suite: str  # NAME@vN, a suite version of the run
    mode: str  # RatingMode value
    models: list[str]  # pointwise: the models rated; pairwise: exactly two
    raters: list[int]  # user ids
    raters_per_unit: int = 2
    tasks: list[str] = field(default_factory=lambda: list(OPEN_ENDED))
    items: list[str] | None = None  # these item ids (None: every test item of `tasks`)
    sample: int | None = None  # a sample of that many of the items (seeded)
    seed: int = 0
    name: str = ""


def _one_line(error: EvalkitError) -> str:
    return "; ".join(line for line in str(error).splitlines() if line.strip())


def _load(store: SuiteStore, run_dir: str) -> tuple[Path, dict[str, Any], dict[str, SuiteVersion]]:
    """The run's folder, manifest and suite versions, or BadRunFolder saying why not: not a
    run, not scored, a suite version missing from the store or not the one the run used."""
    path = Path(run_dir.strip()).expanduser()
    try:
        read_manifest(path)
        scored_files(path)
        manifest, versions = load_run(path, store.root)
    except EvalkitError as e:
        raise BadRunFolder("error.bad_run", path=str(path), reason=_one_line(e)) from None
    return path, manifest, versions


@service(Action.SET_UP_RATING)
def list_runs(db: Session, actor: User, runs_dir: Path) -> list[RunFolder]:
    """The run folders directly under `runs_dir` (scored or not), by name."""
    if not runs_dir.is_dir():
        return []
    return [
        RunFolder(p.name, str(p), (p / SUMMARY_FILE).is_file())
        for p in sorted(runs_dir.iterdir())
        if p.is_dir() and (p / MANIFEST_FILE).is_file()
    ]


@service(Action.SET_UP_RATING)
def inspect_run(db: Session, actor: User, store: SuiteStore, run_dir: str) -> RunInfo:
    """A scored run's models and suite versions (refused with BadRunFolder, one line)."""
    path, manifest, versions = _load(store, run_dir)
    suites = []
    for s in manifest["suites"]:
        version = versions[f"{s['name']}@{s['version']}"]
        rubric = version.spec.effective_rubric
        items: dict[str, list[str]] = {}
        for item in version.items:
            if item.split == "test":
                items.setdefault(item.task, []).append(item.id)
        criteria = {task: [c.name for c in rubric.for_task(task)] for task in items}
        suites.append(RunSuite(version.ref, s["content_hash"], items, criteria))
    return RunInfo(str(path), manifest["run_id"], [m["name"] for m in manifest["models"]], suites)


def _model_problems(mode: str, models: Sequence[str], known: Sequence[str]) -> list[Problem]:
    problems = [
        Problem(SETUP, "models", f"{m!r} is not a model of the run ({', '.join(known)})")
        for m in models
        if m not in known
    ]
    if len(set(models)) != len(models):
        problems.append(Problem(SETUP, "models", "a model is chosen twice"))
    if mode == RatingMode.PAIR.value and len(models) != 2:
        problems.append(Problem(SETUP, "models", "pairwise rating compares exactly two models"))
    if mode == RatingMode.POINT.value and not models:
        problems.append(Problem(SETUP, "models", "choose at least one model"))
    return problems


def _rater_problems(db: Session, setup: SetUp) -> tuple[list[User], list[Problem]]:
    people = [db.get(User, uid) for uid in dict.fromkeys(setup.raters)]
    raters = [u for u in people if u is not None and allowed(u, Action.RATE)]
    problems = []
    if len(raters) != len(people):
        problems.append(Problem(SETUP, "raters", "a rater does not exist or is deactivated"))
    if not 1 <= setup.raters_per_unit <= max(len(raters), 1) or not raters:
        problems.append(
            Problem(
                SETUP,
                "raters_per_unit",
                f"{setup.raters_per_unit} rater(s) per output, but {len(raters)} rater(s) "
                "chosen: choose at least as many raters",
            )
        )
    return raters, problems


def _chosen_items(setup: SetUp, version: SuiteVersion) -> tuple[list[ItemBase], list[Problem]]:
    tests = [i for i in version.items if i.split == "test"]
    problems = []
    if setup.items is not None:
        known = {i.id for i in tests}
        problems += [
            Problem(SETUP, "items", f"{i!r} is not a test item of {version.ref}")
            for i in setup.items
            if i not in known
        ]
        wanted = set(setup.items)
        chosen = [i for i in tests if i.id in wanted]
    else:
        chosen = [i for i in tests if i.task in setup.tasks]
    if setup.sample is not None:
        if not 1 <= setup.sample <= len(chosen):
            problems.append(
                Problem(SETUP, "sample", f"{setup.sample} is not in 1..{len(chosen)} items")
            )
        else:
            picked = set(random.Random(setup.seed).sample(range(len(chosen)), setup.sample))
            chosen = [item for k, item in enumerate(chosen) if k in picked]
    if not chosen and not problems:
        tasks = ", ".join(setup.tasks) or "none"
        problems.append(Problem(SETUP, "items", f"no test item of {version.ref} ({tasks})"))
    if setup.mode == RatingMode.POINT.value:
        rubric = version.spec.effective_rubric
        problems += [
            Problem(SETUP, "items", f"{i.id} ({i.task}): no criterion of the rubric rates {i.task}")
            for i in chosen
            if not rubric.for_task(i.task)
        ]
    return chosen, problems


def _outputs(
    run_dir: Path, version: SuiteVersion, models: list[str], items: list[ItemBase]
) -> tuple[dict[tuple[str, str], str | None], list[Problem]]:
    """(model, item id) -> the model's output (None: it failed), or the problems."""
    found: dict[tuple[str, str], str | None] = {}
    problems = []
    for model in models:
        try:
            for record in read_generations(run_dir, model, version):
                found[model, record["item_id"]] = record.get("output")
        except EvalkitError as e:
            raise BadRunFolder("error.bad_run", path=str(run_dir), reason=_one_line(e)) from None
        problems += [
            Problem(SETUP, "items", f"{model} has no output for {i.id}")
            for i in items
            if (model, i.id) not in found
        ]
    return found, problems


def _units(
    rating_set: RatingSet, items: list[ItemBase], found: dict[tuple[str, str], str | None]
) -> list[list[RatingUnit]]:
    """Per item, its units: one per model (pointwise) or one for the pair."""
    groups = []
    for item in items:
        record = {k: v for k, v in item_to_record(item).items() if k != "provenance"}
        pairs = (
            [rating_set.models]
            if rating_set.mode == RatingMode.PAIR.value
            else [[m] for m in rating_set.models]
        )
        groups.append(
            [
                RatingUnit(
                    rating_set=rating_set,
                    item_id=item.id,
                    task=item.task,
                    record=record,
                    models=list(models),
                    outputs=[found[m, item.id] for m in models],
                )
                for models in pairs
            ]
        )
    return groups


def plan_assignments(
    groups: list[list[RatingUnit]], raters: list[User], per_unit: int, seed: int
) -> list[RatingAssignment]:
    """Each item's units go to `per_unit` raters (in turn, so the work is balanced); each
    rater's items, an item's outputs and (pairwise) the side of A are shuffled for that rater by
    a generator seeded with `seed` and their name."""
    mine: dict[int, list[list[RatingUnit]]] = {r.id: [] for r in raters}
    for k, group in enumerate(groups):
        for j in range(per_unit):
            mine[raters[(k * per_unit + j) % len(raters)].id].append(group)
    out = []
    for rater in raters:
        rng = random.Random(f"{seed}/{rater.username}")
        groups_of_rater = list(mine[rater.id])
        rng.shuffle(groups_of_rater)
        position = 0
        for group in groups_of_rater:
            units = list(group)
            rng.shuffle(units)
            for unit in units:
                flipped = len(unit.models) == 2 and rng.random() < 0.5
                out.append(
                    RatingAssignment(
                        unit=unit, rater_id=rater.id, position=position, flipped=flipped
                    )
                )
                position += 1
    return out


@service(Action.SET_UP_RATING)
def create_set(db: Session, actor: User, store: SuiteStore, setup: SetUp) -> RatingSetView:
    """Load the run again, check every choice (all problems at once), copy the items and
    outputs, and give each unit to its raters in an order shuffled for each."""
    run_dir, manifest, versions = _load(store, setup.run_dir)
    problems: list[Problem] = []
    if setup.mode not in {m.value for m in RatingMode}:
        problems.append(Problem(SETUP, "mode", f"unknown mode {setup.mode!r}: point or pair"))
    version = versions.get(setup.suite)
    if version is None:
        known = ", ".join(versions)
        problems.append(
            Problem(SETUP, "suite", f"{setup.suite!r} is not a suite of the run ({known})")
        )
    if len(setup.name.strip()) > MAX_NAME:
        problems.append(Problem(SETUP, "name", f"longer than {MAX_NAME} characters"))
    names = [m["name"] for m in manifest["models"]]
    problems += _model_problems(setup.mode, setup.models, names)
    raters, rater_problems = _rater_problems(db, setup)
    problems += rater_problems
    if version is None or problems:
        raise InvalidInput(problems)
    items, item_problems = _chosen_items(setup, version)
    if item_problems:
        raise InvalidInput(item_problems)
    found, output_problems = _outputs(run_dir, version, setup.models, items)
    if output_problems:
        raise InvalidInput(output_problems)
    recorded = {f"{s['name']}@{s['version']}": s["content_hash"] for s in manifest["suites"]}
    pointwise = setup.mode == RatingMode.POINT.value
    rubric = version.spec.effective_rubric
    rating_set = RatingSet(
        name=setup.name.strip()
        or f"{manifest['run_id']} · {version.ref} · {setup.mode}"[:MAX_NAME],
        run_dir=str(run_dir.resolve()),
        run_id=manifest["run_id"],
        suite=version.ref,
        content_hash=recorded[version.ref],
        mode=setup.mode,
        models=list(setup.models),
        criteria=[c.model_dump(mode="json") for c in rubric.criteria] if pointwise else [],
        seed=setup.seed,
        raters_per_unit=setup.raters_per_unit,
        created_by_id=actor.id,
    )
    db.add(rating_set)
    groups = _units(rating_set, items, found)
    db.add_all(unit for group in groups for unit in group)
    db.add_all(plan_assignments(groups, raters, setup.raters_per_unit, setup.seed))
    db.flush()
    audit.record(
        db,
        actor,
        "rating_set.create",
        "rating_set",
        rating_set.key,
        None,
        {
            "name": rating_set.name,
            "run_dir": rating_set.run_dir,
            "run_id": rating_set.run_id,
            "suite": rating_set.suite,
            "content_hash": rating_set.content_hash,
            "mode": rating_set.mode,
            "models": rating_set.models,
            "items": [i.id for i in items],
            "raters": [r.username for r in raters],
            "raters_per_unit": rating_set.raters_per_unit,
            "seed": rating_set.seed,
        },
    )
    return set_view(db, rating_set)
