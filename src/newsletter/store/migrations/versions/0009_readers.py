"""Readers choose their sections; copies are rendered per segment; clicks are counted.

`subscribers.sections`: the sections a reader chose (JSON list; NULL = every section).
`deliveries.segment`: that choice, frozen with the audience (JSON list; "" = every section).
`segment_renders`: the render frozen for each segment other than "every section".
`clicks`: one row per click on an article link, by source (the /c/ redirect or the provider).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsletter.store.migrations.helpers import foreign_key

revision = "0009_readers"
down_revision = "0008_people"


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sections", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "segment_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preheader", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("placeholders", sa.String(length=64), nullable=False),
        foreign_key("segment_renders", "issue_id", "issues", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_renders")),
        sa.UniqueConstraint("issue_id", "segment", name="uq_segment_renders_issue_segment"),
    )
    op.create_table(
        "clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=False),
        foreign_key("clicks", "issue_id", "issues", "CASCADE"),
        foreign_key("clicks", "delivery_id", "deliveries", "CASCADE"),
        foreign_key("clicks", "subscriber_id", "subscribers", "CASCADE"),
        foreign_key("clicks", "article_id", "articles", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clicks")),
    )
    op.create_index("ix_clicks_issue_article", "clicks", ["issue_id", "article_id"])
    op.create_index("ix_clicks_subscriber", "clicks", ["subscriber_id"])


def downgrade() -> None:
    op.drop_index("ix_clicks_subscriber", table_name="clicks")
    op.drop_index("ix_clicks_issue_article", table_name="clicks")
    op.drop_table("clicks")
    op.drop_table("segment_renders")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("segment")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("sections")
