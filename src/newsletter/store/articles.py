"""Collected articles, deduplicated on (feed, guid) and on canonical URL."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Exists,
    FromClause,
    RowMapping,
    Select,
    case,
    exists,
    func,
    or_,
    select,
    true,
)

from newsletter.domain.model import Article, ArticleDraft
from newsletter.store.dialect import insert_ignore
from newsletter.store.engine import Repository
from newsletter.store.rows import from_row
from newsletter.store.tables import articles, feeds, issue_items, story_funding

if TYPE_CHECKING:
    from newsletter.domain.funding import FundingFacts

CATEGORY_SEPARATOR = "\x1f"

_T = TypeVar("_T", bound=tuple[Any, ...])


class ArticleRepository(Repository):
    def add(self, feed_id: int, drafts: Iterable[ArticleDraft], collected_at: datetime) -> int:
        """Store the articles not seen before; return how many were new.

        An item is new unless this feed stored its guid already, or any feed stored its link
        (`identity`: the link without fragment; tracking parameters are gone already). Items
        of one feed sharing a link but not a guid (a "now" page, release notes, comments) are
        told apart by link and guid, and linked with their anchor (`page#2026-02-11`).
        Conflicts are settled by the database itself (ON CONFLICT DO NOTHING), so concurrent
        collections cannot fail on each other's inserts.
        """
        pending = list(drafts)
        new = 0
        with self.engine.begin() as connection:
            seen = set(self._stored_guids(connection, feed_id, [d.guid for d in pending]))
            insert = insert_ignore(connection, articles).returning(articles.c.id)
            for draft in pending:
                if draft.guid in seen:
                    continue
                seen.add(draft.guid)
                values = _row(feed_id, draft, collected_at)
                key = identity(draft.url)
                if connection.execute(insert.values(identity=key, **values)).first() is not None:
                    new += 1
                    continue
                owner = connection.execute(
                    select(articles.c.feed_id).where(articles.c.identity == key)
                ).scalar()
                if owner == feed_id:  # this feed's own items, one link, told apart by guid
                    if draft.anchor:
                        values["url"] = f"{key}#{draft.anchor}"
                    again = insert.values(identity=f"{key} {draft.guid}", **values)
                    new += connection.execute(again).first() is not None
        return new

    @staticmethod
    def _stored_guids(connection: Connection, feed_id: int, guids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(guids), 500):
            query = select(articles.c.guid).where(
                articles.c.feed_id == feed_id, articles.c.guid.in_(guids[start : start + 500])
            )
            found.extend(connection.execute(query).scalars())
        return found

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
        return self._read(
            _newest(article_query(), ~_in_an_issue(), articles.c.dismissed.is_(False), limit=limit)
        )

    def in_issues(self, limit: int) -> list[Article]:
        """The newest articles that an issue uses (their stories are not news any more)."""
        return self._read(_newest(article_query(), _in_an_issue(), limit=limit))

    def matching(self, q: str, limit: int) -> frozenset[int]:
        """Ids of the unused, undismissed articles whose title or summary contain `q` (accents
        and case aside), newest first, at most `limit`."""
        from newsletter.store.search import accent_folded_match  # only to search

        query = _newest(
            select(articles.c.id),
            ~_in_an_issue(),
            articles.c.dismissed.is_(False),
            or_(
                accent_folded_match(articles.c.title, q),
                accent_folded_match(articles.c.summary, q),
            ),
            limit=limit,
        )
        with self.engine.connect() as connection:
            return frozenset(connection.execute(query).scalars())

    def recent(self, limit: int = 100) -> list[Article]:
        return self._read(_newest(article_query(), limit=limit))

    def _read(self, query: Select[tuple[object, ...]]) -> list[Article]:
        with self.engine.connect() as connection:
            return [to_article(row) for row in connection.execute(query).mappings()]

    def fingerprint(self) -> tuple[object, ...]:
        """What the inbox's stories are made of, summed up in one cheap read (the inbox's
        cache is keyed on it): it changes when an article is collected, dismissed or restored,
        when an issue takes or drops one, when a story's funding facts are set, and when a
        feed's section or name does."""
        dismissed = case((articles.c.dismissed, articles.c.id), else_=None)
        facts = story_funding.c
        parts = [
            # ids are summed too: SQLite gives a deleted last row's id again.
            select(
                func.count(), func.max(articles.c.id), func.count(dismissed), func.sum(dismissed)
            ),
            select(func.count(), func.max(issue_items.c.id), func.sum(issue_items.c.article_id)),
            # Facts set again at an instant not the latest (another process's clock behind,
            # a frozen one) change the sums unless of the same size.
            select(
                func.count(),
                func.sum(facts.article_id),
                func.max(facts.corrected_at),
                func.sum(case((facts.is_funding, 1), else_=0)),
                func.sum(func.coalesce(facts.amount, 0)),
                _text_size(facts.company, facts.investors, facts.round, facts.currency),
            ),
            # The configuration syncs a feed's section and display name; a fetch its title.
            select(
                func.count(),
                _text_size(feeds.c.name, feeds.c.section, feeds.c.title, feeds.c.feed_title),
            ),
        ]
        joined: FromClause = parts[0].subquery()
        for part in parts[1:]:
            joined = joined.join(part.subquery(), true())
        with self.engine.connect() as connection:
            return tuple(connection.execute(select(joined)).one())

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(articles)).scalar_one())


def identity(url: str) -> str:
    """What makes two links one article: the canonical link without its fragment."""
    return url.partition("#")[0]


def _row(feed_id: int, draft: ArticleDraft, collected_at: datetime) -> dict[str, object]:
    return {
        "feed_id": feed_id,
        "guid": draft.guid,
        "url": draft.url,
        "title": draft.title,
        "summary": draft.summary,
        "content_html": draft.content_html,
        "image_url": draft.image_url,
        "image_width": draft.image_width,
        "image_height": draft.image_height,
        "author": draft.author,
        "categories": CATEGORY_SEPARATOR.join(draft.categories),
        "published_at": draft.published_at,
        "collected_at": collected_at,
    }


def _text_size(*columns: ColumnElement[str | None]) -> ColumnElement[int | None]:
    """The summed length of these columns' texts over the rows (a change of one mostly
    changes it)."""
    sizes: list[ColumnElement[int]] = [func.coalesce(func.length(c), 0) for c in columns]
    return func.sum(functools.reduce(operator.add, sizes))


def _in_an_issue() -> Exists:
    return exists().where(issue_items.c.article_id == articles.c.id)


def _newest(query: Select[_T], *conditions: ColumnElement[bool], limit: int) -> Select[_T]:
    """`query` narrowed to `conditions`: the newest `limit` rows first (an undated entry by
    when we collected it)."""
    when = func.coalesce(articles.c.published_at, articles.c.collected_at)
    return query.where(*conditions).order_by(when.desc(), articles.c.id.desc()).limit(limit)


def article_query() -> Select[tuple[object, ...]]:
    """Articles with their feed's name and section, as `to_article` reads them."""
    return (
        select(
            articles,
            feeds.c.name.label("feed_name"),
            feeds.c.section.label("section"),
            func.coalesce(feeds.c.title, feeds.c.feed_title).label("source"),
            story_funding.c.is_funding.label("funding_is_round"),
            story_funding.c.company.label("funding_company"),
            story_funding.c.amount.label("funding_amount"),
            story_funding.c.currency.label("funding_currency"),
            story_funding.c.round.label("funding_round"),
            story_funding.c.investors.label("funding_investors"),
        )
        .join(feeds, feeds.c.id == articles.c.feed_id)
        .outerjoin(story_funding, story_funding.c.article_id == articles.c.id)
    )


def to_article(row: RowMapping) -> Article:
    categories = row["categories"]
    return from_row(
        Article,
        row,
        categories=tuple(categories.split(CATEGORY_SEPARATOR)) if categories else (),
        source=row.get("source"),
        anchor=None,  # a stored article's url already carries it
        funding=_funding(row),
        funding_set=row.get("funding_is_round") is not None,
    )


def _funding(row: RowMapping) -> FundingFacts | None:
    if not row.get("funding_is_round"):
        return None
    from newsletter.domain.funding import FundingFacts  # not for stories without a round

    investors = row["funding_investors"] or ""
    return FundingFacts(
        company=row["funding_company"],
        amount=row["funding_amount"],
        currency=row["funding_currency"],
        round=row["funding_round"],
        investors=tuple(name for name in investors.split(CATEGORY_SEPARATOR) if name),
    )
