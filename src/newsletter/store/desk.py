"""Read models of the editors' desk: the inbox with its filters, article usage, subscriber
search and the list's growth. Queries only; the desk changes data through the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, and_, case, func, or_, select

from newsletter.domain.model import Article, IssueState, Subscriber, SubscriberStatus
from newsletter.store.articles import article_query, to_article
from newsletter.store.issues import next_number
from newsletter.store.search import accent_folded_match
from newsletter.store.subscriber_rows import to_subscriber
from newsletter.store.tables import articles, feeds, issue_items, issues, subscribers


@dataclass(frozen=True)
class InboxFilter:
    feed: str | None = None
    section: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    show_dismissed: bool = False


@dataclass(frozen=True)
class InboxEntry:
    article: Article
    dismissed: bool


@dataclass(frozen=True)
class ArticleUse:
    issue_id: int
    number: int
    state: IssueState


class DeskQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- inbox ---------------------------------------------------------------------------------

    def inbox(
        self, chosen: InboxFilter, limit: int = 50, offset: int = 0
    ) -> tuple[list[InboxEntry], int]:
        """Articles matching the filter, newest first, and how many match in all."""
        conditions = _inbox_conditions(chosen)
        when = func.coalesce(articles.c.published_at, articles.c.collected_at)
        query = (
            article_query()
            .where(*conditions)
            .order_by(when.desc(), articles.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        total_query = (
            select(func.count())
            .select_from(articles.join(feeds, feeds.c.id == articles.c.feed_id))
            .where(*conditions)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            total = int(connection.execute(total_query).scalar_one())
        return [InboxEntry(to_article(row), bool(row["dismissed"])) for row in rows], total

    def uses(self, article_ids: Sequence[int]) -> dict[int, list[ArticleUse]]:
        """For each article, the issues that hold it."""
        if not article_ids:
            return {}
        query = (
            select(issue_items.c.article_id, issues.c.id, issues.c.number, issues.c.state)
            .join(issues, issues.c.id == issue_items.c.issue_id)
            .where(issue_items.c.article_id.in_(list(article_ids)))
            .order_by(issues.c.id)
        )
        found: dict[int, list[ArticleUse]] = {}
        with self.engine.connect() as connection:
            upcoming = next_number(connection)  # what an unsent issue shows (see Issue.number)
            for article_id, issue_id, number, state in connection.execute(query):
                found.setdefault(int(article_id), []).append(
                    ArticleUse(
                        int(issue_id),
                        upcoming if number is None else int(number),
                        IssueState(state),
                    )
                )
        return found

    def set_dismissed(self, article_id: int, dismissed: bool) -> bool:
        with self.engine.begin() as connection:
            result = connection.execute(
                articles.update().where(articles.c.id == article_id).values(dismissed=dismissed)
            )
        return result.rowcount == 1

    def sections(self) -> list[str]:
        query = select(feeds.c.section).where(feeds.c.section.is_not(None)).distinct()
        with self.engine.connect() as connection:
            return sorted(str(s) for s in connection.execute(query).scalars() if s)

    # -- subscribers ---------------------------------------------------------------------------

    def subscribers(
        self,
        text: str | None,
        status: SubscriberStatus | None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Subscriber], int]:
        conditions: list[ColumnElement[bool]] = []
        if text:
            conditions.append(
                or_(
                    accent_folded_match(subscribers.c.email, text),
                    accent_folded_match(subscribers.c.name, text),
                )
            )
        if status is not None:
            conditions.append(subscribers.c.status == status)
        query = (
            select(subscribers)
            .where(*conditions)
            .order_by(subscribers.c.created_at.desc(), subscribers.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        total_query = select(func.count()).select_from(subscribers).where(*conditions)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            total = int(connection.execute(total_query).scalar_one())
        return [to_subscriber(row) for row in rows], total

    def status_counts(self) -> dict[SubscriberStatus, int]:
        query = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
        with self.engine.connect() as connection:
            found = {SubscriberStatus(s): int(n) for s, n in connection.execute(query)}
        return {status: found.get(status, 0) for status in SubscriberStatus}

    def active_at(self, moments: Sequence[datetime]) -> list[int]:
        """How many subscribers were active at each moment, in one query.

        Active at t: confirmed by t and either still active or unsubscribed after t. Bounced and
        complained addresses carry no date of leaving, so they are left out of every point.
        """
        if not moments:
            return []
        columns = [
            func.sum(
                case(
                    (
                        and_(
                            subscribers.c.confirmed_at <= moment,
                            or_(
                                subscribers.c.status == SubscriberStatus.ACTIVE,
                                and_(
                                    subscribers.c.status == SubscriberStatus.UNSUBSCRIBED,
                                    subscribers.c.unsubscribed_at > moment,
                                ),
                            ),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label(f"p{i}")
            for i, moment in enumerate(moments)
        ]
        with self.engine.connect() as connection:
            row = connection.execute(select(*columns).select_from(subscribers)).one()
        return [int(value or 0) for value in row]


def _inbox_conditions(chosen: InboxFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not chosen.show_dismissed:
        conditions.append(articles.c.dismissed.is_(False))
    if chosen.feed:
        conditions.append(feeds.c.name == chosen.feed)
    if chosen.section:
        conditions.append(feeds.c.section == chosen.section)
    if chosen.text:
        conditions.append(
            or_(
                accent_folded_match(articles.c.title, chosen.text),
                accent_folded_match(articles.c.summary, chosen.text),
            )
        )
    when = func.coalesce(articles.c.published_at, articles.c.collected_at)
    if chosen.since is not None:
        conditions.append(when >= chosen.since)
    if chosen.until is not None:
        conditions.append(when < chosen.until)
    return conditions
