"""Feeds keep a display name: the config's `title` and the feed's own title as last fetched."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sources"
down_revision = "0004_mail"


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("feed_title", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("feed_title")
        batch_op.drop_column("title")
