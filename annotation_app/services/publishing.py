"""Publishing approved items as a new immutable version through evalkit's store, and reading
version history and diffs back from it (the store on disk is the one record of versions)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotation_app.errors import InvalidInput
from annotation_app.models import Item, Status, Suite, User
from annotation_app.permissions import Action
from annotation_app.services import audit
from annotation_app.services.access import service
from annotation_app.services.health import decisions_since_publish
from annotation_app.services.items import load_suite
from annotation_app.services.suites import validate_spec
from annotation_app.services.visibility import blind_diff, blind_item_pks
from evalkit.errors import Problem
from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD, check_items
from evalkit.suite.diff import SuiteDiff, diff_versions
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.manifest import Manifest
from evalkit.suite.records import LocatedItem, parse_item
from evalkit.suite.store import SuiteRef, SuiteStore, SuiteVersion


def build_draft(
    db: Session, suite: Suite, threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> tuple[SuiteDraft | None, list[Problem]]:
    """The suite's approved items as an evalkit draft, checked as `evalkit suite validate`
    checks a draft (ids, duplicates, templates, few-shot counts)."""
    spec = validate_spec(suite.spec_record())
    rows = db.scalars(
        select(Item)
        .where(Item.suite_id == suite.id, Item.status == Status.APPROVED.value)
        .order_by(Item.item_id)
    )
    located: list[LocatedItem] = []
    problems: list[Problem] = []
    for row in rows:
        item, item_problems = parse_item(row.record, f"{suite.name}/{row.item_id}")
        problems += item_problems
        if item is not None:
            located.append(LocatedItem(item, f"{suite.name}/{row.item_id}"))
    if not located and not problems:
        problems.append(Problem(suite.name, "-", "no approved items to publish"))
    problems += check_items(located, spec, threshold, spec_where=f"{suite.name} (suite settings)")
    if problems:
        return None, problems
    return SuiteDraft(spec, tuple(located)), []


@service(Action.PUBLISH)
def publish(
    db: Session,
    actor: User,
    store: SuiteStore,
    suite_id: int,
    changelog: str,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
) -> SuiteVersion:
    """Write the approved items as `suites/<name>/<next version>/`; reviewers and admins."""
    suite = load_suite(db, suite_id)
    if not changelog.strip():
        raise InvalidInput([Problem("publish", "changelog", "say what changed and why")])
    draft, problems = build_draft(db, suite, threshold)
    if draft is None:
        raise InvalidInput(problems, key="error.publish_problems")
    decisions = decisions_since_publish(db, suite.name)  # suite health: what was revised or retired
    text = changelog.strip()
    if decisions:
        text += "\n\nItem health (evalkit suite analyze):\n" + "\n".join(decisions)
    version = store.publish(draft, author=actor.username, changelog=text)
    audit.record(
        db,
        actor,
        "version.publish",
        "version",
        f"version:{version.ref}",
        None,
        {
            "ref": version.ref,
            "items": len(version.items),
            "hash": version.manifest.content_hash,
            "changelog": text,
        },
    )
    return version


@service(Action.VIEW)
def history(db: Session, actor: User, store: SuiteStore, name: str) -> list[Manifest]:
    """Published versions of `name`, newest first (manifests only: shown on every rerun)."""
    return [store.manifest(SuiteRef(name, v)) for v in reversed(store.versions(name))]


@service(Action.VIEW)
def diff(db: Session, actor: User, store: SuiteStore, name: str, old: str, new: str) -> SuiteDiff:
    """What changed between two published versions; an annotator labelling an item of the
    suite blind does not see the changes to its hidden fields (gold, format, provenance)."""
    result = diff_versions(store.load(SuiteRef(name, old)), store.load(SuiteRef(name, new)))
    blind = blind_item_pks(db, actor)
    if not blind:
        return result
    query = (
        select(Item.item_id, Item.task)
        .join(Suite, Item.suite_id == Suite.id)
        .where(Suite.name == name, Item.id.in_(blind))
    )
    return blind_diff(result, {item_id: task for item_id, task in db.execute(query)})
