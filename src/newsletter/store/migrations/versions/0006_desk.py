"""Issue numbers are given when sending starts: the column may be empty until then."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_desk"
down_revision = "0005_sources"


def upgrade() -> None:
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Unsent issues get numbers after the highest one, in the order they were made.
    connection = op.get_bind()
    last = connection.execute(sa.text("SELECT max(number) FROM issues")).scalar() or 0
    unnumbered = connection.execute(
        sa.text("SELECT id FROM issues WHERE number IS NULL ORDER BY id")
    ).scalars()
    for offset, issue_id in enumerate(list(unnumbered), start=1):
        connection.execute(
            sa.text("UPDATE issues SET number = :n WHERE id = :id"),
            {"n": int(last) + offset, "id": issue_id},
        )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
