"""The database schema: users, suites, items, double-annotation labels, expert ratings of a
run's outputs, the audit log and the login throttle.

Items are stored as evalkit item records (JSON) plus a few columns copied out of the record
for filtering. `Item.version` and `Suite.version` are SQLAlchemy version counters: an UPDATE
whose row changed since it was read fails instead of overwriting (optimistic locking).
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from annotation_app.security import normalize_username, username_key

# Lengths of columns filled from what people type: checked by the services, because SQLite
# stores longer text silently and PostgreSQL refuses it (an internal error, not a message).
DISPLAY_NAME_MAX = 200
ITEM_LANGUAGE_MAX = 32


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Role(str, enum.Enum):
    """What a user may do; each role may also do everything of the roles before it."""

    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class Status(str, enum.Enum):
    """An item's place in review: draft → in_review → approved / rejected → revised → ...;
    `retired`: taken out of the next version on the evidence of suite health (the published
    versions keep it)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISED = "revised"
    RETIRED = "retired"


class Base(DeclarativeBase):
    # Named constraints, so Alembic's batch mode can alter SQLite tables later.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    # NFKC + case-folded username: logins and uniqueness compare this (set with `username`).
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))  # None: single sign-on only
    role: Mapped[str] = mapped_column(String(16), default=Role.ANNOTATOR.value)
    language: Mapped[str] = mapped_column(String(8), default="en")  # of the interface
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @validates("username")
    def _keep_key(self, _field: str, value: str) -> str:
        value = normalize_username(value)
        self.username_key = username_key(value)
        return value

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def public(self) -> dict[str, Any]:
        """The fields the audit log records (never the password hash)."""
        return {
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "language": self.language,
            "active": self.active,
            "sso_only": self.password_hash is None,
        }


class Suite(Base):
    """A suite being curated: its spec fields; items hang off it."""

    __tablename__ = "suites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text)
    guidelines: Mapped[str] = mapped_column(Text)
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    tasks: Mapped[dict[str, Any]] = mapped_column(JSON)  # task type -> TaskConfig as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def key(self) -> str:
        """How the audit log names the suite."""
        return f"suite:{self.name}"

    def snapshot(self) -> dict[str, Any]:
        """What the audit log and an edit conflict show of a suite."""
        return {**self.spec_record(), "version": self.version}

    def spec_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "guidelines": self.guidelines,
            "goals": self.goals,
            "tasks": self.tasks,
        }


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("suite_id", "item_id", name="uq_items_suite_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suite_id: Mapped[int] = mapped_column(ForeignKey("suites.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(128))  # the evalkit item id
    task: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(ITEM_LANGUAGE_MAX))
    split: Mapped[str] = mapped_column(String(8))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # evalkit item record, validated
    search_text: Mapped[str] = mapped_column(Text, default="")  # input + references, for search
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value, index=True)
    review_comment: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # What an import file (or a form) claimed as author/reviewer; never the item's provenance,
    # which the server sets from the signed-in user. None when nothing else was claimed.
    claimed_provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    suite: Mapped[Suite] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    updated_by: Mapped[User] = relationship(foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def key(self) -> str:
        """How the audit log names the item (suite names and item ids never change)."""
        return f"item:{self.suite.name}/{self.item_id}"

    def snapshot(self) -> dict[str, Any]:
        """What the audit log records of an item."""
        out = {
            "item_id": self.item_id,
            "status": self.status,
            "review_comment": self.review_comment,
            "version": self.version,
            "record": self.record,
        }
        if self.claimed_provenance:
            out["claimed_provenance"] = self.claimed_provenance
        return out


class Assignment(Base):
    """One annotator's blind label for one item (double annotation)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_pk", "annotator_id", name="uq_assignments_item_annotator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    label: Mapped[str | None] = mapped_column(Text)
    labelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    item: Mapped[Item] = relationship()
    annotator: Mapped[User] = relationship(foreign_keys=[annotator_id])


class Adjudication(Base):
    """A reviewer's resolution of a disagreement between annotators."""

    __tablename__ = "adjudications"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_pk: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    label: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RatingMode(str, enum.Enum):
    """How a rating set rates a run's outputs."""

    POINT = "point"  # one output at a time, on each criterion of the suite's rubric
    PAIR = "pair"  # two models' outputs side by side: A, B or a tie


class RatingSet(Base):
    """Outputs of one scored run on one suite version, given to experts to rate blind.

    What was rated is recorded as the run recorded it (run id, suite version, content hash), so
    that the export is a ratings file `evalkit score RUN ratings=FILE` accepts for that run."""

    __tablename__ = "rating_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    run_dir: Mapped[str] = mapped_column(Text)  # the run folder, as loaded
    run_id: Mapped[str] = mapped_column(Text)
    suite: Mapped[str] = mapped_column(String(100))  # NAME@vN
    content_hash: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(8))  # RatingMode
    models: Mapped[list[str]] = mapped_column(JSON)  # rated models; pairwise: [model_a, model_b]
    # The suite's effective rubric at set-up (Criterion records); empty for pairwise sets.
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer)  # of the sample and of each rater's shuffle
    raters_per_unit: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def key(self) -> str:
        """How the audit log names the set."""
        return f"rating_set:{self.id}"

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class RatingUnit(Base):
    """One thing rated: an item and one model's output (pointwise), or an item and two models'
    outputs (pairwise). The item and the outputs are copied from the run at set-up."""

    __tablename__ = "rating_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("rating_sets.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(128))
    task: Mapped[str] = mapped_column(String(32))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)  # the item, without its provenance
    models: Mapped[list[str]] = mapped_column(JSON)  # [model] or [model_a, model_b]
    outputs: Mapped[list[str | None]] = mapped_column(JSON)  # aligned with `models`

    rating_set: Mapped[RatingSet] = relationship()


class RatingAssignment(Base):
    """One rater's rating of one unit: where it comes in their shuffled order, which output
    they see as A (pairwise), and their rating once given (revisable until the set closes)."""

    __tablename__ = "rating_assignments"
    __table_args__ = (
        UniqueConstraint("unit_id", "rater_id", name="uq_rating_assignments_unit_rater"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("rating_units.id"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # in this rater's shuffled order
    flipped: Mapped[bool] = mapped_column(Boolean, default=False)  # A shows model_b's output
    scores: Mapped[dict[str, int] | None] = mapped_column(JSON)  # criterion -> score
    winner: Mapped[str | None] = mapped_column(String(4))  # "a", "b", "tie" (of the unit's models)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    unit: Mapped[RatingUnit] = relationship()
    rater: Mapped[User] = relationship()


class AuditEntry(Base):
    """Who did what, when, with the state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(128))  # kept even if the user is renamed
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))  # "item", "suite", "user", "version"
    entity_key: Mapped[str] = mapped_column(String(200), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LoginThrottle(Base):
    """Failed logins per user name (existing or not), so that guessing is slowed down and
    locked out across restarts and processes. Times are POSIX seconds, so that the counter is
    updated by one atomic SQL UPDATE on any database."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # username_key of the name
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in the current window
    window_start: Mapped[float] = mapped_column(Float)
    locked_until: Mapped[float | None] = mapped_column(Float)
