"""The schema, as SQLAlchemy Core tables. Alembic migrations in `migrations/` build exactly this.

The tables are in three modules by subject, so that a command defines only those it queries
(building a table costs a command's start-up about as much as a query): this one holds the
metadata, the column types and what is collected, curated and rendered (feeds, articles,
issues); `reader_tables` the readers and what is sent to them; `desk_tables` the editors and the
scheduler's runs. `schema.metadata` holds them all, for migrations and checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    types,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime value for a UTC column: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def surrogate_id() -> Column[int]:
    """The table's surrogate key."""
    return Column("id", Integer, primary_key=True)


def reference(name: str, table: str, ondelete: str, nullable: bool = True) -> Column[int]:
    """A column holding the id of a row of `table`; `ondelete`: CASCADE or SET NULL."""
    return Column(name, Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


def counter(name: str) -> Column[int]:
    """A count that starts at zero."""
    return Column(name, Integer, nullable=False, server_default="0")


feeds = Table(
    "feeds",
    metadata,
    surrogate_id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),  # where it is fetched: permanent redirects update it
    Column("config_url", Text, nullable=False),  # as configured: a change resets `url`
    Column("section", String(200)),
    Column("title", Text),  # display name from the config
    Column("feed_title", Text),  # the feed's own title, as last fetched
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_fetched_at", UtcDateTime()),
    Column("last_status", String(20)),
    Column("last_error", Text),
    counter("consecutive_failures"),
    Column("next_fetch_at", UtcDateTime()),
    Column("paused", Boolean, nullable=False, server_default="0"),
)

articles = Table(
    "articles",
    metadata,
    surrogate_id(),
    reference("feed_id", "feeds", "CASCADE", nullable=False),
    Column("guid", Text, nullable=False),
    Column("url", Text, nullable=False, index=True),
    # What makes two items one article: the link without fragment, else link and guid (0006).
    Column("identity", Text, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("content_html", Text, nullable=False, server_default=""),
    Column("image_url", Text),
    Column("image_width", Integer),  # pixels, as the feed or page declared them (else NULL)
    Column("image_height", Integer),
    Column("author", Text),
    Column("categories", Text, nullable=False, server_default=""),
    Column("published_at", UtcDateTime()),
    Column("collected_at", UtcDateTime(), nullable=False),
    Column("dismissed", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("feed_id", "guid", name="uq_articles_feed_guid"),
    Index("ix_articles_published", "published_at"),
)

# What an editor set for a story's funding round, by the article the desk showed (0006).
story_funding = Table(
    "story_funding",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("is_funding", Boolean, nullable=False),  # false: the editor says it is no round
    Column("company", Text, nullable=False, server_default=""),
    Column("amount", BigInteger),
    Column("currency", String(3)),
    Column("round", String(40)),
    Column("investors", Text, nullable=False, server_default=""),
    Column("corrected_at", UtcDateTime(), nullable=False),
    Column("corrected_by", String(200)),
)

issues = Table(
    "issues",
    metadata,
    surrogate_id(),
    Column("number", Integer, unique=True),  # given when sending starts: no gaps
    Column("state", String(20), nullable=False),
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False, server_default=""),
    Column("intro", Text, nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("send_at", UtcDateTime()),
    Column("started_at", UtcDateTime()),
    Column("sent_at", UtcDateTime()),
    # The render frozen when sending starts, so a resumed send mails the same email.
    Column("rendered_subject", Text),
    Column("rendered_preheader", Text),
    Column("rendered_html", Text),
    Column("rendered_text", Text),
    Column("rendered_placeholders", String(64)),  # the nonce of the frozen render's placeholders
    Index("ix_issues_state_send_at", "state", "send_at"),
)

issue_items = Table(
    "issue_items",
    metadata,
    surrogate_id(),
    reference("issue_id", "issues", "CASCADE", nullable=False),
    reference("article_id", "articles", "CASCADE", nullable=False),
    Column("position", Integer, nullable=False),
    Column("section", String(200)),
    Column("title", Text),
    Column("summary", Text),
    UniqueConstraint("issue_id", "article_id", name="uq_issue_items_issue_article"),
)

# The render frozen for each segment of an issue other than "every section" (issues.rendered_*).
segment_renders = Table(
    "segment_renders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("segment", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("placeholders", String(64), nullable=False),
    UniqueConstraint("issue_id", "segment", name="uq_segment_renders_issue_segment"),
)
