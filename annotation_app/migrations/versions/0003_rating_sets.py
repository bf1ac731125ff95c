"""expert rating of a run's outputs

- `rating_sets`: a scored run's outputs on one suite version, given to experts to rate (the
  run id, suite version and content hash it was loaded with; pointwise or pairwise; the
  rubric's criteria at set-up; the seed; raters per unit; closed or not).
- `rating_units`: an item and one model's output (pointwise) or two models' outputs
  (pairwise), copied from the run.
- `rating_assignments`: one rater's rating of one unit, with their place in their shuffled
  order and which output they see as A.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rating_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("run_dir", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("suite", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("raters_per_unit", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_rating_sets_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_rating_sets_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_sets")),
    )
    op.create_table(
        "rating_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=128), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["rating_sets.id"], name=op.f("fk_rating_units_set_id_rating_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_units")),
    )
    with op.batch_alter_table("rating_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_units_set_id"), ["set_id"], unique=False)

    op.create_table(
        "rating_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("flipped", sa.Boolean(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("winner", sa.String(length=4), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["users.id"], name=op.f("fk_rating_assignments_rater_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["rating_units.id"],
            name=op.f("fk_rating_assignments_unit_id_rating_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_assignments")),
        sa.UniqueConstraint("unit_id", "rater_id", name="uq_rating_assignments_unit_rater"),
    )
    with op.batch_alter_table("rating_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_assignments_rater_id"), ["rater_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rating_assignments_unit_id"), ["unit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_assignments_unit_id"))
        batch_op.drop_index(batch_op.f("ix_rating_assignments_rater_id"))
    op.drop_table("rating_assignments")
    with op.batch_alter_table("rating_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_units_set_id"))
    op.drop_table("rating_units")
    op.drop_table("rating_sets")
