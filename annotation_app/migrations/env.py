"""Alembic environment: runs on the connection `annotation_app.db.migrate` passes in."""

from __future__ import annotations

from typing import Any

from alembic import context

from annotation_app.db import make_engine
from annotation_app.models import Base

config = context.config


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=...` from a shell, for writing new migrations
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///.evalkit/app.db")
    with make_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
