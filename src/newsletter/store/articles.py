"""Collected articles, deduplicated on (feed, guid) and on canonical URL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    Engine,
    RowMapping,
    Select,
    UnaryExpression,
    exists,
    func,
    select,
)

from newsletter.domain.model import Article, ArticleDraft
from newsletter.store.dialect import insert_ignore
from newsletter.store.tables import articles, feeds, issue_items

CATEGORY_SEPARATOR = "\x1f"


class ArticleRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, feed_id: int, drafts: Iterable[ArticleDraft], collected_at: datetime) -> int:
        """Store the articles not seen before; return how many were new.

        An article already stored under the same canonical URL (from any feed) or the same guid
        in this feed is skipped by the database itself (ON CONFLICT DO NOTHING), so concurrent
        collections cannot fail on each other's inserts.
        """
        new = 0
        with self.engine.begin() as connection:
            insert = insert_ignore(connection, articles).returning(articles.c.id)
            for draft in drafts:
                result = connection.execute(
                    insert.values(
                        feed_id=feed_id,
                        guid=draft.guid,
                        url=draft.url,
                        title=draft.title,
                        summary=draft.summary,
                        content_html=draft.content_html,
                        image_url=draft.image_url,
                        image_width=draft.image_width,
                        image_height=draft.image_height,
                        author=draft.author,
                        categories=CATEGORY_SEPARATOR.join(draft.categories),
                        published_at=draft.published_at,
                        collected_at=collected_at,
                    )
                )
                new += result.first() is not None  # no row back: a duplicate, skipped
        return new

    def known_urls(self, urls: Sequence[str]) -> frozenset[str]:
        """Which of these canonical URLs are stored already."""
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(urls), 500):
                chunk = list(urls[start : start + 500])
                found.update(
                    connection.execute(select(articles.c.url).where(articles.c.url.in_(chunk)))
                    .scalars()
                    .all()
                )
        return frozenset(found)

    def get(self, article_id: int) -> Article | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(article_query().where(articles.c.id == article_id))
                .mappings()
                .first()
            )
        return to_article(row) if row else None

    def unused(self, limit: int) -> list[Article]:
        """The newest articles that no issue uses yet and no editor dismissed."""
        in_an_issue = exists().where(issue_items.c.article_id == articles.c.id)
        query = (
            article_query()
            .where(~in_an_issue, articles.c.dismissed.is_(False))
            .order_by(_newest_first(), articles.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [to_article(row) for row in connection.execute(query).mappings()]

    def recent(self, limit: int = 100) -> list[Article]:
        query = article_query().order_by(_newest_first(), articles.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [to_article(row) for row in connection.execute(query).mappings()]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())


def _newest_first() -> UnaryExpression[object]:
    # Undated entries sort by when we collected them.
    return func.coalesce(articles.c.published_at, articles.c.collected_at).desc()


def article_query() -> Select[tuple[object, ...]]:
    """Articles with their feed's name and section, as `to_article` reads them."""
    return select(
        articles,
        feeds.c.name.label("feed_name"),
        feeds.c.section.label("section"),
        func.coalesce(feeds.c.title, feeds.c.feed_title).label("source"),
    ).join(feeds, feeds.c.id == articles.c.feed_id)


def to_article(row: RowMapping) -> Article:
    categories = row["categories"]
    return Article(
        id=row["id"],
        feed_name=row["feed_name"],
        guid=row["guid"],
        url=row["url"],
        title=row["title"],
        summary=row["summary"],
        content_html=row["content_html"],
        image_url=row["image_url"],
        author=row["author"],
        published_at=row["published_at"],
        collected_at=row["collected_at"],
        section=row["section"],
        categories=tuple(categories.split(CATEGORY_SEPARATOR)) if categories else (),
        image_width=row["image_width"],
        image_height=row["image_height"],
        source=row.get("source"),
    )
