"""The desk's tables: editors, their log, and the scheduler's job runs (see `tables`)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from newsletter.store.tables import UtcDateTime, counter, metadata, surrogate_id

editors = Table(
    "editors",
    metadata,
    surrogate_id(),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("email", String(320)),  # where the desk sends test copies
    # Bumped by logging out: every session opened before stops working, copied cookies too.
    counter("session_epoch"),
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
