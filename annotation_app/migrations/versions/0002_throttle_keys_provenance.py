"""login throttle, case-insensitive Unicode user names, claimed provenance, suite editor

- `login_throttle`: failed logins per user name, for the lockout (survives restarts).
- `users.username_key`: the NFKC + case-folded name that logins and uniqueness compare
  (filled from `username` for existing accounts).
- `items.claimed_provenance`: the author/reviewer an import file claimed, kept apart from the
  provenance the server sets.
- `suites.updated_by_id`: who saved the suite settings last (named in an edit conflict).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 07:42:08.643216
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from annotation_app.security import username_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_provenance", sa.JSON(), nullable=True))

    with op.batch_alter_table("suites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_suites_updated_by_id_users"), "users", ["updated_by_id"], ["id"]
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_key", sa.String(length=128), nullable=True))
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_key", sa.String),
    )
    connection = op.get_bind()
    for user_id, name in connection.execute(sa.select(users.c.id, users.c.username)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(username_key=username_key(name))
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("username_key", existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_users_username_key"), ["username_key"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_username_key"), type_="unique")
        batch_op.drop_column("username_key")

    with op.batch_alter_table("suites", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_suites_updated_by_id_users"), type_="foreignkey")
        batch_op.drop_column("updated_by_id")

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("claimed_provenance")

    op.drop_table("login_throttle")
