"""Every service × every kind of user against the role table (`permissions.ROLE_TABLE`, which
docs/app.md shows verbatim): allowed calls succeed, refused ones raise the typed error before
touching data and are written to the audit log."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from access_cases import ACTIVE, CASES, World
from app_helpers import USERS, Run
from rating_helpers import ScoredRun
from sqlalchemy import inspect as inspect_db
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

import annotation_app.services as services_package
from annotation_app.errors import NotLoggedIn, PermissionDenied
from annotation_app.models import AuditEntry, Role
from annotation_app.permissions import ROLE_TABLE, SERVICES, role_table_markdown
from evalkit.suite.store import SuiteStore

DOC = Path(__file__).parents[2] / "docs" / "app.md"
# Modules of helpers that services use (guard, locking, what a user sees): no services there.
HELPER_MODULES = {"access", "locking", "visibility"}
# Functions of service modules that take (db, actor) but are steps inside a service.
NOT_SERVICES = {"audit.record", "audit.record_apart", "review.require_four_eyes"}
ROLE_OF = {name: role for name, role, _ in USERS}
WHO = ["ann1", "rev", "admin", "gone", None]  # annotator, reviewer, admin, deactivated, nobody


def _service_modules() -> list[Any]:
    return [
        importlib.import_module(f"annotation_app.services.{m.name}")
        for m in pkgutil.iter_modules(services_package.__path__)
        if m.name not in HELPER_MODULES
    ]


SERVICE_MODULES = _service_modules()  # also fills SERVICES


def test_every_function_taking_an_actor_is_a_guarded_service_with_a_case() -> None:
    found = set()
    for module in SERVICE_MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        for name, fn in vars(module).items():
            if (
                name.startswith("_")
                or not inspect.isfunction(fn)
                or fn.__module__ != module.__name__
            ):
                continue
            params = list(inspect.signature(fn).parameters)
            if params[:2] == ["db", "actor"] and f"{short}.{name}" not in NOT_SERVICES:
                assert getattr(fn, "service_name", None) == f"{short}.{name}", name
                found.add(f"{short}.{name}")
    assert found == set(SERVICES) == set(CASES)


def test_the_documented_role_table_is_the_code_table() -> None:
    doc = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- roles:begin -->\n(.*?)\n<!-- roles:end -->", doc, re.S)
    assert block is not None, "docs/app.md lacks the roles:begin/roles:end markers"
    assert block.group(1) == role_table_markdown()


def _expected(service: str, who: str | None) -> bool:
    if who not in ACTIVE or who is None:
        return False
    return Role(ROLE_OF[who]).rank >= ROLE_TABLE[SERVICES[service]].minimum.rank


def _fingerprint(factory: sessionmaker[Session]) -> list[Any]:
    """Every row of every table but the audit log."""
    with factory() as db:
        tables = set(inspect_db(db.connection()).get_table_names()) - {"audit_log"}
        return [(t, db.execute(text(f'SELECT * FROM "{t}"')).all()) for t in sorted(tables)]


def _refusals(factory: sessionmaker[Session], service: str) -> list[str]:
    with factory() as db:
        query = select(AuditEntry.username).where(
            AuditEntry.action == "access.refused", AuditEntry.entity_key == f"service:{service}"
        )
        return list(db.scalars(query))


@pytest.mark.parametrize("who", WHO, ids=lambda w: w or "nobody")
@pytest.mark.parametrize("service", sorted(CASES))
def test_service_against_role_table(
    service: str,
    who: str | None,
    factory: sessionmaker[Session],
    act: Run,
    store: SuiteStore,
    people: dict[str, int],
    suite_id: int,
    run: ScoredRun,
) -> None:
    world = World(factory, act, store, people, suite_id, run)
    args, kwargs = CASES[service](world, who)
    module, name = service.split(".")
    fn = getattr(importlib.import_module(f"annotation_app.services.{module}"), name)
    if _expected(service, who):
        act(who, fn, *args, **kwargs)
        assert _refusals(factory, service) == []
        return
    before = _fingerprint(factory)
    error = NotLoggedIn if who not in ACTIVE else PermissionDenied
    with pytest.raises(error) as caught:
        act(who, fn, *args, **kwargs)
    assert type(caught.value) is error  # the same error for nobody and for a deactivated user
    assert _fingerprint(factory) == before  # refused before touching anything
    assert _refusals(factory, service) == [who or "-"]
