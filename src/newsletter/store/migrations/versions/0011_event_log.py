"""The provider event log keeps its issue and delivery ids without foreign keys.

A webhook request inserts up to a thousand events in one statement; on PostgreSQL the two
foreign keys cost a trigger call per row each (two thirds of the insert). The ids stored are
those read in the same transaction (an unknown issue or delivery is stored as NULL), and
issues and deliveries are never deleted, so the keys guarded nothing the insert does not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_event_log"
down_revision = "0010_stories"


def upgrade() -> None:
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.drop_constraint("fk_provider_events_issue_id_issues", type_="foreignkey")
        batch_op.drop_constraint("fk_provider_events_delivery_id_deliveries", type_="foreignkey")


def downgrade() -> None:
    events = sa.table("provider_events", sa.column("issue_id"), sa.column("delivery_id"))
    for name, target in (("issue_id", "issues"), ("delivery_id", "deliveries")):
        known = sa.select(sa.table(target, sa.column("id")).c.id)
        op.execute(events.update().where(events.c[name].not_in(known)).values({name: None}))
    with op.batch_alter_table("provider_events", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_provider_events_issue_id_issues", "issues", ["issue_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
        batch_op.create_foreign_key(
            "fk_provider_events_delivery_id_deliveries", "deliveries", ["delivery_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
