"""Feeds and their fetch health."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import Engine, RowMapping, select

from newsletter.domain.model import FeedSource, FeedState
from newsletter.store.tables import feeds


class FeedRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def sync(self, sources: list[FeedSource]) -> None:
        """Make the stored feeds match the configuration (new ones added, URL/section updated)."""
        with self.engine.begin() as connection:
            configured = {
                row.name: row.config_url
                for row in connection.execute(select(feeds.c.name, feeds.c.config_url))
            }
            for source in sources:
                if source.name not in configured:
                    connection.execute(
                        feeds.insert().values(
                            name=source.name,
                            url=source.url,
                            config_url=source.url,
                            section=source.section,
                            title=source.title,
                        )
                    )
                    continue
                values: dict[str, object] = {"section": source.section, "title": source.title}
                if configured[source.name] != source.url:
                    # A new URL in the file wins over a remembered redirect and its validators.
                    values |= {
                        "url": source.url,
                        "config_url": source.url,
                        "etag": None,
                        "last_modified": None,
                        "body_hash": None,
                        "paused": False,
                    }
                connection.execute(
                    feeds.update().where(feeds.c.name == source.name).values(**values)
                )

    def get(self, name: str) -> FeedState | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
        return _state(row) if row else None

    def all(self) -> list[FeedState]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(feeds).order_by(feeds.c.name)).mappings().all()
        return [_state(row) for row in rows]

    def id_of(self, name: str) -> int:
        with self.engine.connect() as connection:
            feed_id = connection.execute(select(feeds.c.id).where(feeds.c.name == name)).scalar()
        if feed_id is None:
            raise KeyError(name)
        return int(feed_id)

    def save(self, state: FeedState) -> None:
        values = asdict(state)
        name = values.pop("name")
        with self.engine.begin() as connection:
            connection.execute(feeds.update().where(feeds.c.name == name).values(**values))


def _state(row: RowMapping) -> FeedState:
    return FeedState(
        name=row["name"],
        url=row["url"],
        feed_title=row["feed_title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        last_fetched_at=row["last_fetched_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        next_fetch_at=row["next_fetch_at"],
        paused=bool(row["paused"]),
    )
