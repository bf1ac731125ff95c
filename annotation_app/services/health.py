"""Suite health: what the stored runs say about a suite's latest published version, handed
to its reviewers, and what they decide about each flagged item.

The analysis is evalkit's own (`evalkit.analysis`, as `evalkit suite analyze` computes it,
without the IRT fit) over every scored run of that exact version in the runs folder. Each
flagged item comes with its evidence and each model's answer, most valuable fix first: a
suspected wrong gold misgrades every model, a format-spec bug the models that keep the format,
an item that ranks models backwards the ranking; an item that separates no models only costs
time.

A reviewer acts on a flag: *revise* sends the item back to review (`revised`, to be fixed in
the editor and approved again), *retire* takes it out of the next version (`retired`; the
published versions keep it). Either is written to the audit log with the evidence, and the
next publish of the suite appends those decisions, with their evidence, to its changelog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput
from annotation_app.models import AuditEntry, Item, Status, User
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.items import item_key, load_item, load_suite
from evalkit.errors import EvalkitError, Problem
from evalkit.suite.store import SuiteStore

HEALTH_ACTION = "item.health"
HealthDecision = Literal["revise", "retire"]
# What a fix is worth, by flag: how much a flagged item distorts the verdicts until fixed.
FLAG_VALUE: dict[str, float] = {
    "suspected_wrong_gold": 4.0,
    "format_failures": 3.0,
    "negative_discrimination": 2.0,
    "low_discrimination": 1.0,
    "near_duplicate": 1.0,
    "no_information": 0.5,
}


@dataclass
class FlaggedItem:
    item_id: str
    item_pk: int | None  # the app's row, None when the item is no longer in the app
    status: str | None
    value: float  # expected value of a fix: FLAG_VALUE of its flags, most serious first
    flags: list[dict[str, Any]]
    difficulty: float | None
    answers: dict[str, str | None] = field(default_factory=dict)  # model → its answer


@dataclass
class SuiteHealth:
    suite: str  # NAME@vN analysed
    runs: list[str]
    models: list[str]
    items: int
    flagged: list[FlaggedItem]
    notes: list[str]
    message: str | None = None  # why there is nothing to show (no version, no runs)


def _value(flags: list[dict[str, Any]]) -> float:
    values = sorted((FLAG_VALUE.get(f["flag"], 0.5) for f in flags), reverse=True)
    return values[0] + 0.1 * sum(values[1:]) if values else 0.0


@service(Action.REVIEW)
def suite_health(
    db: Session, actor: User, store: SuiteStore, runs_dir: Path, suite_id: int
) -> SuiteHealth:
    """The flagged items of the suite's latest published version, from the runs folder."""
    from evalkit.analysis.responses import find_runs, gather_responses
    from evalkit.analysis.suite_analysis import analyze_matrix

    suite = load_suite(db, suite_id)
    if not store.versions(suite.name):
        return SuiteHealth(suite.name, [], [], 0, [], [], "health.no_version")
    version = store.load(suite.name)
    try:
        runs = find_runs(runs_dir, version)
        matrix = gather_responses(version, runs)
    except EvalkitError as e:
        return SuiteHealth(version.ref, [], [], 0, [], [], str(e))
    analysis = analyze_matrix(version, matrix, irt=False)
    rows = {row.item_id: row for row in db.scalars(select(Item).where(Item.suite_id == suite.id))}
    column = {item.id: j for j, item in enumerate(matrix.items)}
    flagged = []
    for stats in analysis.flagged:
        row = rows.get(stats.item_id)
        j = column[stats.item_id]
        answers = {
            label: matrix.answers[m][j] or matrix.outputs[m][j]
            for m, label in enumerate(matrix.labels)
        }
        flagged.append(
            FlaggedItem(
                stats.item_id,
                row.id if row is not None else None,
                row.status if row is not None else None,
                _value(stats.flags),
                sorted(stats.flags, key=lambda f: -FLAG_VALUE.get(f["flag"], 0.5)),
                stats.difficulty if stats.difficulty == stats.difficulty else None,
                answers,
            )
        )
    flagged.sort(key=lambda f: (-f.value, f.item_id))
    return SuiteHealth(
        version.ref,
        [Path(r).name for r in analysis.runs],
        analysis.models,
        len(analysis.items),
        flagged,
        analysis.notes,
    )


@service(Action.REVIEW)
def act_on_flag(
    db: Session,
    actor: User,
    item_pk: int,
    decision: HealthDecision,
    evidence: str,
    version: str,
) -> Item:
    """Send a flagged item back to review (`revise`) or out of the next version (`retire`),
    with the evidence, recorded for the next version's changelog."""
    if decision not in ("revise", "retire"):
        raise InvalidInput([Problem("health", "decision", f"unknown decision {decision!r}")])
    row = load_item(db, item_pk)
    before = row.snapshot()
    row.status = Status.RETIRED.value if decision == "retire" else Status.REVISED.value
    row.reviewer_id = None
    after = {**row.snapshot(), "health": {"decision": decision, "evidence": evidence}}
    after["health"]["version"] = version
    audit.record(db, actor, HEALTH_ACTION, "item", item_key(row), before, after)
    return row


@service(Action.REVIEW)
def pending_decisions(db: Session, actor: User, suite_id: int) -> list[str]:
    """The health decisions on the suite's items that its next version's changelog will carry."""
    return decisions_since_publish(db, load_suite(db, suite_id).name)


def decisions_since_publish(db: Session, suite_name: str) -> list[str]:
    """The health decisions on the suite's items since its last publish, one line each, for
    the next version's changelog (`publishing.publish` appends them)."""
    last = db.scalars(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == "version.publish",
            AuditEntry.entity_key.like(f"version:{suite_name}@%"),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    query = select(AuditEntry).where(
        AuditEntry.action == HEALTH_ACTION,
        AuditEntry.entity_key.like(f"item:{suite_name}/%"),
    )
    if last is not None:
        query = query.where(AuditEntry.id > last)
    lines = []
    for entry in db.scalars(query.order_by(AuditEntry.id)):
        health = (entry.after or {}).get("health", {})
        item_id = entry.entity_key.split("/", 1)[1]
        lines.append(
            f"- {item_id}: {health.get('decision')} (flagged in {health.get('version')} by "
            f"{entry.username}: {health.get('evidence')})"
        )
    return lines
