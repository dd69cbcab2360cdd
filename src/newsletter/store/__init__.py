"""Storage: SQLAlchemy Core tables, Alembic migrations, and one repository per domain concept.

Repositories take and return the domain types (`newsletter.domain`); SQLAlchemy stays inside this
package.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text

from newsletter.store import migrate
from newsletter.store.engine import is_postgres, make_engine
from newsletter.store.locks import AdvisoryLock

if TYPE_CHECKING:
    from newsletter.store.articles import ArticleRepository
    from newsletter.store.clicks import ClickRepository
    from newsletter.store.deliveries import DeliveryRepository
    from newsletter.store.editors import EditorRepository
    from newsletter.store.events import EventRepository
    from newsletter.store.feeds import FeedRepository
    from newsletter.store.issues import IssueRepository
    from newsletter.store.jobs import JobRunRepository
    from newsletter.store.outbox import OutboxRepository
    from newsletter.store.stories import StoryRepository
    from newsletter.store.subscribers import SubscriberRepository


class Store:
    """The database and its repositories. Each repository (and its module) is built on first
    use: a command imports only the ones it reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @cached_property
    def feeds(self) -> FeedRepository:
        from newsletter.store.feeds import FeedRepository

        return FeedRepository(self.engine)

    @cached_property
    def articles(self) -> ArticleRepository:
        from newsletter.store.articles import ArticleRepository

        return ArticleRepository(self.engine)

    @cached_property
    def issues(self) -> IssueRepository:
        from newsletter.store.issues import IssueRepository

        return IssueRepository(self.engine)

    @cached_property
    def outbox(self) -> OutboxRepository:
        from newsletter.store.outbox import OutboxRepository

        return OutboxRepository(self.engine)

    @cached_property
    def events(self) -> EventRepository:
        from newsletter.store.events import EventRepository

        return EventRepository(self.engine)

    @cached_property
    def subscribers(self) -> SubscriberRepository:
        from newsletter.store.subscribers import SubscriberRepository

        return SubscriberRepository(self.engine)

    @cached_property
    def deliveries(self) -> DeliveryRepository:
        from newsletter.store.deliveries import DeliveryRepository

        return DeliveryRepository(self.engine)

    @cached_property
    def job_runs(self) -> JobRunRepository:
        from newsletter.store.jobs import JobRunRepository

        return JobRunRepository(self.engine)

    @cached_property
    def editors(self) -> EditorRepository:
        from newsletter.store.editors import EditorRepository

        return EditorRepository(self.engine)

    @cached_property
    def clicks(self) -> ClickRepository:
        from newsletter.store.clicks import ClickRepository

        return ClickRepository(self.engine)

    @cached_property
    def stories(self) -> StoryRepository:
        from newsletter.store.stories import StoryRepository

        return StoryRepository(self.engine)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(make_engine(url))

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @property
    def sqlite_file(self) -> str | None:
        """The SQLite database's file name as the URL gives it (None for PostgreSQL)."""
        return None if self.is_postgres else self.engine.url.database

    def advisory_lock(self, name: str) -> AdvisoryLock:
        """A PostgreSQL advisory lock named `name` in this database and schema."""
        return AdvisoryLock(self.engine, name)

    def server_time(self) -> datetime:
        """The database server's clock (to compare with this machine's)."""
        with self.engine.connect() as connection:
            now: datetime = connection.execute(text("SELECT CURRENT_TIMESTAMP")).scalar_one()
        return now

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def is_current(self) -> bool:
        return migrate.is_current(self.engine)

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Store"]
