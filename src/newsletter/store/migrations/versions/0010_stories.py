"""Stories: an article's identity apart from its link, and the editors' funding facts.

`articles.identity` is what makes two items one article: the link without its fragment, or,
for items of one feed that share a link but not a guid (a "now" page, release notes, a comment
feed), the link and the guid. The link itself is no longer unique. Existing rows keep their
link as identity (links stored so far never held a fragment).

`story_funding` holds what an editor set for a story's funding round (or that it is none),
by the article the desk showed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsletter.store.migrations.helpers import foreign_key

revision = "0010_stories"
down_revision = "0009_readers"


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.Text(), nullable=True))
    op.execute("UPDATE articles SET identity = url")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.alter_column("identity", existing_type=sa.Text(), nullable=False)
        batch_op.drop_constraint("uq_articles_url", type_="unique")
        batch_op.create_unique_constraint("uq_articles_identity", ["identity"])
        batch_op.create_index("ix_articles_url", ["url"], unique=False)
    op.create_table(
        "story_funding",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("is_funding", sa.Boolean(), nullable=False),
        sa.Column("company", sa.Text(), nullable=False, server_default=""),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("round", sa.String(length=40), nullable=True),
        sa.Column("investors", sa.Text(), nullable=False, server_default=""),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("corrected_by", sa.String(length=200), nullable=True),
        foreign_key("story_funding", "article_id", "articles", "CASCADE"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_story_funding")),
    )


def downgrade() -> None:
    op.drop_table("story_funding")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_url")
        batch_op.drop_constraint("uq_articles_identity", type_="unique")
        batch_op.create_unique_constraint("uq_articles_url", ["url"])
        batch_op.drop_column("identity")
