"""The readers' tables: subscribers, suppressions, the transactional outbox, the ledger of
deliveries, the provider's events and the clicks (see `tables` for the rest of the schema)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from newsletter.store.tables import UtcDateTime, counter, metadata, reference, surrogate_id

subscribers = Table(
    "subscribers",
    metadata,
    surrogate_id(),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200)),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime()),
    Column("unsubscribed_at", UtcDateTime()),
    # Consent provenance (see readers.ConsentRecord): how, when, from where, recorded by whom.
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
    surrogate_id(),
    Column("email_hash", String(64), nullable=False, unique=True),
    Column("reason", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Transactional emails owed (confirmation, welcome): written with the state change that owes
# them, sent by the outbox worker. `not_before` is a lease while a worker sends, a backoff after.
outbox = Table(
    "outbox",
    metadata,
    surrogate_id(),
    Column("kind", String(20), nullable=False),
    reference("subscriber_id", "subscribers", "CASCADE", nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("not_before", UtcDateTime()),  # due from then; while claimed, the lease's end
    counter("attempts"),
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
    surrogate_id(),
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
    surrogate_id(),
    reference("issue_id", "issues", "CASCADE", nullable=False),
    reference("subscriber_id", "subscribers", "SET NULL"),
    Column("email", String(320), nullable=False),
    Column("name", String(200)),
    Column("state", String(20), nullable=False),
    counter("attempts"),
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
