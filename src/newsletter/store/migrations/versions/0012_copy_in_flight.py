"""A ledger row says whether its copy is in flight: handed to the provider, no answer read.

A worker that dies leaves its claimed rows `sending`; only those in flight may have gone
(`uncertain`), the others go back to `pending`. Batch providers hand the whole batch over at
once (claimed in flight); SMTP marks each copy as its body goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_copy_in_flight"
down_revision = "0011_event_log"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("in_flight", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("in_flight")
