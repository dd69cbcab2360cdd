"""Subscriber ids never reused (SQLite AUTOINCREMENT); consent provenance columns."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_audience"
down_revision = "0002_looks"

_PROVENANCE = (
    ("consent_method", sa.String(length=20)),
    ("consent_recorded_at", sa.DateTime(timezone=True)),
    ("consent_by", sa.String(length=200)),
    ("consent_file", sa.String(length=255)),
)


def upgrade() -> None:
    # On SQLite the table is rebuilt (the only way to add AUTOINCREMENT); the copy keeps every
    # id, and SQLite's sequence starts above the highest. `migrate.upgrade` turns foreign keys
    # off around it, so the rebuild does not cascade into the outbox or the ledger.
    if op.get_context().dialect.name == "sqlite":
        batch = op.batch_alter_table(
            "subscribers", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        )
    else:
        batch = op.batch_alter_table("subscribers")
    with batch as batch_op:
        for name, type_ in _PROVENANCE:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    # What the rows written before this revision say about their consent.
    op.execute(
        "UPDATE subscribers SET consent_recorded_at = COALESCE(consent_at, created_at), "
        "consent_method = CASE WHEN consent_source = 'import' THEN 'import' "
        "WHEN consent_source = 'cli' THEN 'editor' "
        "WHEN consent_source IS NOT NULL THEN 'sign-up' END, "
        "consent_by = CASE consent_source WHEN 'cli' THEN 'cli' END"
    )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        for name, _ in reversed(_PROVENANCE):
            batch_op.drop_column(name)
