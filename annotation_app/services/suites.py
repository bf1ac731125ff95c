"""Suites in the app: create (empty or from a published version), edit the spec, count items."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput
from annotation_app.models import Item, Status, Suite, User, utcnow
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.items import load_suite, new_item_row
from annotation_app.services.locking import check_version, flush_or_conflict
from evalkit.errors import Problem
from evalkit.suite.records import problems_from_validation_error
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore

# Starting prompts and metrics per task type for a new suite; an admin edits them later.
# `fewshot: 0` so that a suite publishes before it has dev items.
DEFAULT_TASKS: dict[str, dict[str, Any]] = {
    "mcq": {
        "instruction": "Answer each multiple-choice question with the letter of the correct "
        "choice.",
        "prompt": "Question: {{ question }}\n{% for c in choices %}{{ letters[loop.index0] }}. "
        "{{ c }}\n{% endfor %}Answer:",
        "target": " {{ answer }}",
        "chat": "{{ question }}\n\n{% for c in choices %}{{ letters[loop.index0] }}. {{ c }}\n"
        "{% endfor %}\nAnswer with the letter of the correct choice only.",
        "fewshot": 0,
        "metrics": ["accuracy", "format_adherence"],
    },
    "classification": {
        "instruction": "Classify each text into exactly one label. Answer with the label only.",
        "prompt": "Text: {{ text }}\nLabels: {{ labels | join(', ') }}\nLabel:",
        "target": " {{ label }}",
        "chat": "Classify the text into exactly one of these labels: {{ labels | join(', ') }}."
        "\n\n{{ text }}\n\nAnswer with the label only.",
        "fewshot": 0,
        "metrics": ["accuracy", "macro_f1", "format_adherence"],
    },
    "extraction": {
        "instruction": "Extract the requested fields as a JSON object; null where the text "
        "has none.",
        "prompt": "Text:\n{{ text }}\nFields: {{ fields.keys() | list | json }}\nJSON:",
        "target": " {{ fields | json }}",
        "chat": "Extract these fields as a JSON object: {{ fields.keys() | list | json }}.\n\n"
        "{{ text }}\n\nAnswer with the JSON object only.",
        "fewshot": 0,
        "metrics": ["field_f1", "format_adherence"],
    },
    "qa": {
        "instruction": "Answer each question with a short answer.",
        "prompt": "{% if context %}Passage: {{ context }}\n{% endif %}Question: {{ question }}"
        "\nAnswer:",
        "target": " {{ answers[0] }}",
        "chat": "{% if context %}{{ context }}\n\n{% endif %}{{ question }}\n\n"
        "Give only the short answer.",
        "fewshot": 0,
        "metrics": ["exact_match", "token_f1"],
    },
    "generation": {
        "instruction": "Follow the instruction in each task.",
        "prompt": "Task: {{ prompt }}\nResponse:",
        "target": " {{ references[0] }}",
        "chat": "{{ prompt }}",
        "fewshot": 0,
        "metrics": ["bleu", "chrf"],
    },
    "dialogue": {
        "instruction": "Continue each conversation as the assistant.",
        "prompt": "{% for m in messages %}{% if m.role == 'user' %}User: {{ m.content }}\n"
        "{% elif m.role == 'assistant' %}Assistant: {{ m.content }}\n{% else %}{{ m.content }}\n"
        "{% endif %}{% endfor %}Assistant:",
        "target": " {{ references[0] }}",
        "chat": "{{ messages[-1].content }}",
        "fewshot": 0,
        "stop": ["\nUser:", "\n\n"],
        "metrics": ["bleu", "chrf"],
    },
}


@dataclass(frozen=True)
class SuiteCounts:
    """Items of a suite by task, by status and by tag."""

    total: int
    by_task: dict[str, int]
    by_status: dict[str, int]
    by_tag: dict[str, int]


def validate_spec(record: dict[str, Any]) -> SuiteSpec:
    """The spec as evalkit reads it, or InvalidInput naming each bad field."""
    try:
        return SuiteSpec.model_validate(record)
    except ValidationError as e:
        raise InvalidInput(problems_from_validation_error(e, "suite")) from None


@service(Action.VIEW)
def get_suite(db: Session, actor: User, suite_id: int) -> Suite:
    return load_suite(db, suite_id)


@service(Action.VIEW)
def list_suites(db: Session, actor: User) -> list[Suite]:
    return list(db.scalars(select(Suite).order_by(Suite.name)))


@service(Action.MANAGE_SUITES)
def create_suite(
    db: Session,
    actor: User,
    store: SuiteStore,
    *,
    name: str,
    description: str,
    guidelines: str,
    goals: list[dict[str, str]],
    tasks: dict[str, Any],
) -> Suite:
    """A new, empty suite. A name already published in the store is refused: start from its
    latest version instead, or the next publish would drop its items."""
    record = {
        "name": name,
        "description": description,
        "guidelines": guidelines,
        "goals": goals,
        "tasks": tasks,
    }
    spec = validate_spec(record)
    if db.scalar(select(Suite.id).where(Suite.name == spec.name)):
        raise InvalidInput([Problem("suite", "name", f"a suite {spec.name!r} already exists")])
    if store.versions(spec.name):
        raise InvalidInput(
            [
                Problem(
                    "suite",
                    "name",
                    f"{spec.name!r} is already published in {store.root}; "
                    "start from its latest version instead",
                )
            ]
        )
    return _add_suite(db, actor, spec, "suite.create")


def _add_suite(db: Session, actor: User, spec: SuiteSpec, action: str) -> Suite:
    data = spec.model_dump(mode="json", exclude_none=True)
    suite = Suite(
        name=spec.name,
        description=data["description"],
        guidelines=data["guidelines"],
        goals=data["goals"],
        tasks=data["tasks"],
        updated_by_id=actor.id,
    )
    db.add(suite)
    db.flush()
    audit.record(db, actor, action, "suite", f"suite:{suite.name}", None, suite.spec_record())
    return suite


@service(Action.MANAGE_SUITES)
def create_from_version(db: Session, actor: User, store: SuiteStore, ref: str) -> Suite:
    """Start curating from a published version: its spec, and its items as approved items
    (they were reviewed before they were published; their provenance is the version's)."""
    version = store.load(ref)
    if db.scalar(select(Suite.id).where(Suite.name == version.name)):
        raise InvalidInput([Problem("suite", "name", f"a suite {version.name!r} already exists")])
    suite = _add_suite(db, actor, version.spec, "suite.create_from_version")
    for item in version.items:
        row = new_item_row(suite, actor, item, Status.APPROVED)
        db.add(row)
    db.flush()
    audit.record(
        db,
        actor,
        "suite.items_from_version",
        "suite",
        f"suite:{suite.name}",
        None,
        {"ref": version.ref, "items": len(version.items)},
    )
    return suite


@service(Action.MANAGE_SUITES)
def update_suite(
    db: Session, actor: User, suite_id: int, changes: dict[str, Any], expected_version: int
) -> Suite:
    """Change description, guidelines, goals or tasks (not the name, which names the folder),
    as edited on version `expected_version`: a newer version in the database (someone saved
    meanwhile) refuses the edit with EditConflict, as for items."""
    suite = load_suite(db, suite_id)
    before = suite.spec_record()
    unknown = set(changes) - {"description", "guidelines", "goals", "tasks"}
    if unknown:
        raise InvalidInput([Problem("suite", field, "cannot be changed") for field in unknown])
    after = {**before, **changes}
    check_version(db, actor, suite, expected_version, after)
    spec = validate_spec(after).model_dump(mode="json", exclude_none=True)
    suite.description = spec["description"]
    suite.guidelines = spec["guidelines"]
    suite.goals = spec["goals"]
    suite.tasks = spec["tasks"]
    suite.updated_at = utcnow()
    suite.updated_by_id = actor.id
    flush_or_conflict(db, actor, suite, after)
    audit.record(db, actor, "suite.update", "suite", suite.key, before, suite.spec_record())
    return suite


@service(Action.VIEW)
def status_counts(db: Session, actor: User) -> dict[int, dict[str, int]]:
    """Items per status of every suite, in one query (the suites list)."""
    out: dict[int, dict[str, int]] = {}
    query = select(Item.suite_id, Item.status, func.count()).group_by(Item.suite_id, Item.status)
    for suite_id, status, n in db.execute(query):
        out.setdefault(suite_id, {})[status] = n
    return out


@service(Action.VIEW)
def counts(db: Session, actor: User, suite_id: int) -> SuiteCounts:
    rows = db.execute(select(Item.task, Item.status, Item.tags).where(Item.suite_id == suite_id))
    by_task: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    by_tag: Counter[str] = Counter()
    total = 0
    for task, status, tags in rows:
        total += 1
        by_task[task] += 1
        by_status[status] += 1
        by_tag.update(tags or [])
    return SuiteCounts(
        total, dict(sorted(by_task.items())), dict(by_status), dict(by_tag.most_common())
    )
