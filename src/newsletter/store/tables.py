"""The schema, as SQLAlchemy Core tables. Alembic migrations in `migrations/` build exactly this."""

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


def _id() -> Column[int]:
    """The table's surrogate key."""
    return Column("id", Integer, primary_key=True)


def _reference(name: str, table: str, ondelete: str, nullable: bool = True) -> Column[int]:
    """A column holding the id of a row of `table`; `ondelete`: CASCADE or SET NULL."""
    return Column(name, Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable)


def _counter(name: str) -> Column[int]:
    """A count that starts at zero."""
    return Column(name, Integer, nullable=False, server_default="0")


feeds = Table(
    "feeds",
    metadata,
    _id(),
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
    _counter("consecutive_failures"),
    Column("next_fetch_at", UtcDateTime()),
    Column("paused", Boolean, nullable=False, server_default="0"),
)

articles = Table(
    "articles",
    metadata,
    _id(),
    _reference("feed_id", "feeds", "CASCADE", nullable=False),
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
    _id(),
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
    _id(),
    _reference("issue_id", "issues", "CASCADE", nullable=False),
    _reference("article_id", "articles", "CASCADE", nullable=False),
    Column("position", Integer, nullable=False),
    Column("section", String(200)),
    Column("title", Text),
    Column("summary", Text),
    UniqueConstraint("issue_id", "article_id", name="uq_issue_items_issue_article"),
)

subscribers = Table(
    "subscribers",
    metadata,
    _id(),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200)),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime()),
    Column("unsubscribed_at", UtcDateTime()),
    # Consent provenance (see model.ConsentRecord): how, when, from where, recorded by whom.
    Column("consent_at", UtcDateTime()),
    Column("consent_ip", String(64)),
    Column("consent_source", String(200)),
    Column("consent_text", String(200)),
    Column("confirmation_sent_at", UtcDateTime()),
    Column("consent_method", String(20)),
    Column("consent_recorded_at", UtcDateTime()),
    Column("consent_by", String(200)),
    Column("consent_file", String(255)),
    Column("sections", Text),  # the sections the reader chose, a JSON list; NULL: every section
    Index("ix_subscribers_status", "status"),
    # Ids are in confirm and unsubscribe links: an erased subscriber's id must never be given to
    # a later sign-up (SQLite would reuse the highest id without AUTOINCREMENT).
    sqlite_autoincrement=True,
)

suppressions = Table(
    "suppressions",
    metadata,
    _id(),
    Column("email_hash", String(64), nullable=False, unique=True),
    Column("reason", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Transactional emails owed (confirmation, welcome): written with the state change that owes
# them, sent by the outbox worker. `not_before` is a lease while a worker sends, a backoff after.
outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),
    _reference("subscriber_id", "subscribers", "CASCADE", nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("not_before", UtcDateTime()),  # due from then; while claimed, the lease's end
    _counter("attempts"),
    Column("worker", String(64)),  # the process holding the claim
    Column("in_flight", Boolean, nullable=False, server_default="0"),  # handed to provider
    UniqueConstraint("kind", "subscriber_id", name="uq_outbox_kind_subscriber"),
)

# Provider events already applied (idempotence), and what open/click statistics count. The
# issue and delivery ids are those read when the event was applied; no foreign key (a trigger
# call per row on PostgreSQL), as issues and deliveries are never deleted.
provider_events = Table(
    "provider_events",
    metadata,
    _id(),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    # No foreign keys: see migration 0011_event_log (a trigger per row on PostgreSQL).
    Column("issue_id", Integer),
    Column("delivery_id", Integer),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_provider_events_issue_kind", "issue_id", "kind"),
)

deliveries = Table(
    "deliveries",
    metadata,
    _id(),
    _reference("issue_id", "issues", "CASCADE", nullable=False),
    _reference("subscriber_id", "subscribers", "SET NULL"),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("state", String(20), nullable=False),
    _counter("attempts"),
    Column("error", Text),
    Column("worker", String(64)),
    Column("claimed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime()),
    Column("not_before", UtcDateTime()),  # a pending row refused for now is not claimed before
    # Handed to the provider, no answer read yet: if the worker dies, the copy may have gone.
    Column("in_flight", Boolean, nullable=False, server_default="0"),
    # The reader's sections frozen with the audience (a JSON list; "": every section).
    Column("segment", Text, nullable=False, server_default=""),
    UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
    Index("ix_deliveries_issue_state", "issue_id", "state", "id"),
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

# Clicks on article links: `link` from the /c/ redirect, `sendgrid` from its click events.
clicks = Table(
    "clicks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE")),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE")),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("url", Text, nullable=False),
    Column("source", String(20), nullable=False),
    Column("clicked_at", UtcDateTime(), nullable=False),
    Index("ix_clicks_issue_article", "issue_id", "article_id"),
    Index("ix_clicks_subscriber", "subscriber_id"),
)

editors = Table(
    "editors",
    metadata,
    _id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("email", String(320)),  # where the desk sends test copies
    # Bumped by logging out: every session opened before stops working, copied cookies too.
    _counter("session_epoch"),
    # "editor" or "admin" (curate/editors.py Role): only an admin manages editors, erases
    # subscribers and sends issues.
    Column("role", String(10), nullable=False, server_default="admin"),
)

# Who did what in the desk's people and sending actions, shown to admins.
desk_log = Table(
    "desk_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("editor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(400), nullable=False, server_default=""),
    Index("ix_desk_log_at", "at"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_run_at", UtcDateTime(), nullable=False),
)
