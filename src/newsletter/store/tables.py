"""The schema, as SQLAlchemy Core tables. Alembic migrations in `migrations/` build exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
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


feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
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
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("next_fetch_at", UtcDateTime()),
    Column("paused", Boolean, nullable=False, server_default="0"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("guid", Text, nullable=False),
    Column("url", Text, nullable=False, unique=True),
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

issues = Table(
    "issues",
    metadata,
    Column("id", Integer, primary_key=True),
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
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("section", String(200)),
    Column("title", Text),
    Column("summary", Text),
    UniqueConstraint("issue_id", "article_id", name="uq_issue_items_issue_article"),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
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
    Index("ix_subscribers_status", "status"),
    # Ids are in confirm and unsubscribe links: an erased subscriber's id must never be given to
    # a later sign-up (SQLite would reuse the highest id without AUTOINCREMENT).
    sqlite_autoincrement=True,
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email_hash", String(64), nullable=False, unique=True),
    Column("reason", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Transactional emails owed (confirmation, welcome): written with the state change that owes
# them, sent by the outbox worker. `not_before` is a lease while a worker sends, a backoff after.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("not_before", UtcDateTime()),  # due from then; while claimed, the lease's end
    Column("attempts", Integer, nullable=False, server_default="0"),
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
    Column("id", Integer, primary_key=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("kind", String(30), nullable=False),
    Column("issue_id", Integer),
    Column("delivery_id", Integer),
    Column("received_at", UtcDateTime(), nullable=False),
    Index("ix_provider_events_issue_kind", "issue_id", "kind"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("issue_id", Integer, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="SET NULL")),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("worker", String(64)),
    Column("claimed_at", UtcDateTime()),
    Column("updated_at", UtcDateTime()),
    Column("not_before", UtcDateTime()),  # a pending row refused for now is not claimed before
    UniqueConstraint("issue_id", "subscriber_id", name="uq_deliveries_issue_subscriber"),
    Index("ix_deliveries_issue_state", "issue_id", "state", "id"),
)

editors = Table(
    "editors",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("email", String(320)),  # where the desk sends test copies
    # Bumped by logging out: every session opened before stops working, copied cookies too.
    Column("session_epoch", Integer, nullable=False, server_default="0"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("last_run_at", UtcDateTime(), nullable=False),
)
