"""Articles remember their image's declared size (for email heights that keep the ratio)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_looks"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("image_width", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("image_height", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("image_height")
        batch.drop_column("image_width")
