"""Editors get a role (editor or admin; those already there become admins, so nobody is
locked out), and the desk keeps a log of its people actions (who, when, what, on whom).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_people"
down_revision = "0007_ledger"


def upgrade() -> None:
    with op.batch_alter_table("editors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=10), nullable=False, server_default="admin")
        )
    op.create_table(
        "desk_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("editor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False, server_default=""),
        sa.Index("ix_desk_log_at", "at"),
    )


def downgrade() -> None:
    op.drop_table("desk_log")
    with op.batch_alter_table("editors", schema=None) as batch_op:
        batch_op.drop_column("role")
