"""What the migration files share. Every revision already applied runs this code again on a new
database, so a change here changes old revisions: add, never alter."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def foreign_key(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    """`table.column` -> `target.id`, named as the metadata's naming convention names it."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )
