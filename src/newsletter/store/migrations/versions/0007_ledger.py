"""Precise ledger states: a not-before time on deliveries, worker claims on the outbox.

`deliveries.not_before`: a row the provider definitely refused goes back to `pending` and is
not claimed again before this time. `outbox.worker` names the process holding a claim, and
`outbox.in_flight` says it handed the email to the provider, so the claims of a worker known
dead that it never sent can be released at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_ledger"
down_revision = "0006_desk"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("in_flight", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("in_flight")
        batch_op.drop_column("worker")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("not_before")
