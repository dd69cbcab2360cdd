"""Clicks on article links, and the figures they make with the ledger and provider events.

A click comes from the /c/ redirect (`source="link"`) or from the provider's click events
(`source="sendgrid"`). With both on, one reader's click is seen twice (the provider's tracking
redirect, then ours), so figures take, for each (delivery, article), the larger count of the
two sources: never counted twice, never lost when one of them misses it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, func, select

from newsletter.store.reader_tables import clicks, deliveries, provider_events, subscribers
from newsletter.store.tables import articles, feeds, issue_items, issues

LINK = "link"
SENDGRID = "sendgrid"


@dataclass(frozen=True)
class ClickTarget:
    issue_id: int
    number: int
    subscriber_id: int | None
    url: str


@dataclass(frozen=True)
class LinkClicks:
    article_id: int | None
    url: str
    title: str
    clicks: int
    unique_clicks: int


@dataclass(frozen=True)
class IssueResults:
    """What the clicks and the provider events say of one issue (newsletter.domain.results
    turns them, with the ledger's counts, into figures and rates)."""

    issue_id: int
    clicks: int
    unique_clicks: int  # readers who clicked at least once
    links: tuple[LinkClicks, ...]
    events: dict[str, int]  # recipients per provider event kind: delivered, open, bounce, ...
    unsubscribed_by_link: int  # its readers who left through our link before the next issue


class ClickRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def target(self, delivery_id: int, article_id: int) -> ClickTarget | None:
        """The issue, reader and article URL a click token names, if the article is one of
        the delivery's issue (never any other URL)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(
                    deliveries.c.issue_id,
                    issues.c.number,
                    deliveries.c.subscriber_id,
                    articles.c.url,
                )
                .join(issues, issues.c.id == deliveries.c.issue_id)
                .join(issue_items, issue_items.c.issue_id == deliveries.c.issue_id)
                .join(articles, articles.c.id == issue_items.c.article_id)
                .where(deliveries.c.id == delivery_id, articles.c.id == article_id)
            ).first()
        return ClickTarget(row.issue_id, row.number, row.subscriber_id, row.url) if row else None

    def record(
        self,
        target: ClickTarget,
        delivery_id: int,
        article_id: int | None,
        source: str,
        now: datetime,
    ) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                clicks.insert().values(
                    issue_id=target.issue_id,
                    delivery_id=delivery_id,
                    subscriber_id=target.subscriber_id,
                    article_id=article_id,
                    url=target.url[:4000],
                    source=source,
                    clicked_at=now,
                )
            )

    def article_by_url(self, issue_id: int, url: str) -> int | None:
        """The issue's article whose link is `url` (a provider's click on an untracked link)."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(articles.c.id)
                .join(issue_items, issue_items.c.article_id == articles.c.id)
                .where(issue_items.c.issue_id == issue_id, articles.c.url == url)
            ).scalar()
        return int(found) if found is not None else None

    def results(self, issue_id: int) -> IssueResults:
        with self.engine.connect() as connection:
            per_copy = connection.execute(
                select(
                    clicks.c.delivery_id,
                    clicks.c.subscriber_id,
                    clicks.c.article_id,
                    clicks.c.source,
                    func.count(),
                )
                .where(clicks.c.issue_id == issue_id)
                .group_by(
                    clicks.c.delivery_id,
                    clicks.c.subscriber_id,
                    clicks.c.article_id,
                    clicks.c.source,
                )
            ).all()
            items = connection.execute(
                select(articles.c.id, articles.c.url, articles.c.title, issue_items.c.title)
                .join(issue_items, issue_items.c.article_id == articles.c.id)
                .where(issue_items.c.issue_id == issue_id)
                .order_by(issue_items.c.position)
            ).all()
            events = connection.execute(
                select(
                    provider_events.c.kind, func.count(func.distinct(provider_events.c.delivery_id))
                )
                .where(provider_events.c.issue_id == issue_id)
                .group_by(provider_events.c.kind)
            ).all()
            left = _left_after(connection, issue_id)
        merged = merge_sources([(r[0], r[1], r[2], r[3], int(r[4])) for r in per_copy])
        by_article: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
        readers: set[object] = set()
        for (reader, article_id), count in merged.items():
            by_article[article_id][0] += count
            by_article[article_id][1] += 1
            readers.add(reader)
        links = tuple(
            LinkClicks(
                article_id,
                url,
                item_title or title,
                by_article[article_id][0],
                by_article[article_id][1],
            )
            for article_id, url, title, item_title in items
        )
        return IssueResults(
            issue_id=issue_id,
            clicks=sum(count for count, _ in by_article.values()),
            unique_clicks=len(readers),
            links=links,
            events={str(kind): int(n) for kind, n in events},
            unsubscribed_by_link=left,
        )

    def issues_sent(self, limit: int) -> list[tuple[int, int, str, datetime | None]]:
        """The last `limit` sent issues, newest first: (id, number, subject, sent_at)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(issues.c.id, issues.c.number, issues.c.subject, issues.c.sent_at)
                .where(issues.c.state == "sent")
                .order_by(issues.c.sent_at.desc(), issues.c.id.desc())
                .limit(limit)
            ).all()
        return [(int(r.id), int(r.number), str(r.subject), r.sent_at) for r in rows]

    def per_source(self, since: datetime) -> dict[str, tuple[int, int]]:
        """(readers who clicked, copies sent) per feed name, over the issues sent since
        `since`: what `newsletter.domain.learning.click_rates` turns into rates."""
        return self._per(feeds.c.name, since)

    def per_section(self, since: datetime) -> dict[str, tuple[int, int]]:
        """(readers who clicked, copies sent) per section, as in the email."""
        return self._per(func.coalesce(issue_items.c.section, feeds.c.section), since)

    def _per(self, key: ColumnElement[str | None], since: datetime) -> dict[str, tuple[int, int]]:
        sent_issues = (issues.c.state == "sent") & (issues.c.sent_at >= since)
        items = (
            select(issue_items.c.issue_id, issue_items.c.article_id, key.label("key"))
            .join(articles, articles.c.id == issue_items.c.article_id)
            .join(feeds, feeds.c.id == articles.c.feed_id)
            .join(issues, issues.c.id == issue_items.c.issue_id)
            .where(sent_issues)
        ).subquery()
        with self.engine.connect() as connection:
            clicked = connection.execute(
                select(items.c.key, func.count(func.distinct(clicks.c.delivery_id)))
                .join(
                    clicks,
                    (clicks.c.issue_id == items.c.issue_id)
                    & (clicks.c.article_id == items.c.article_id),
                )
                .group_by(items.c.key)
            ).all()
            copies = {
                int(issue_id): int(count)
                for issue_id, count in connection.execute(
                    select(deliveries.c.issue_id, func.count())
                    .join(issues, issues.c.id == deliveries.c.issue_id)
                    .where(sent_issues, deliveries.c.state == "sent")
                    .group_by(deliveries.c.issue_id)
                )
            }
            shown = connection.execute(select(items.c.key, items.c.issue_id).distinct()).all()
        exposed: dict[str, int] = defaultdict(int)
        for name, issue_id in shown:
            if name is not None:
                exposed[str(name)] += int(copies.get(issue_id, 0))
        readers = {str(name): int(n) for name, n in clicked if name is not None}
        return {name: (readers.get(name, 0), sent) for name, sent in exposed.items()}


def _left_after(connection: Connection, issue_id: int) -> int:
    """Readers of the issue who unsubscribed after it started and before the next one did."""
    started = select(issues.c.started_at).where(issues.c.id == issue_id).scalar_subquery()
    following = (
        select(func.min(issues.c.started_at)).where(issues.c.started_at > started).scalar_subquery()
    )
    return int(
        connection.execute(
            select(func.count())
            .select_from(deliveries)
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .where(
                deliveries.c.issue_id == issue_id,
                deliveries.c.state == "sent",
                subscribers.c.status == "unsubscribed",
                subscribers.c.unsubscribed_at >= started,
                (subscribers.c.unsubscribed_at < following) | following.is_(None),
            )
        ).scalar_one()
    )


def merge_sources(
    rows: list[tuple[int | None, int | None, int | None, str, int]],
) -> dict[tuple[object, int | None], int]:
    """Clicks per (reader, article) from rows (delivery, subscriber, article, source, count):
    the larger count of the two sources, so one click seen by both counts once. Pure."""
    best: dict[tuple[object, int | None], int] = {}
    for delivery_id, subscriber_id, article_id, _source, count in rows:
        reader: object = delivery_id if delivery_id is not None else ("s", subscriber_id)
        key = (reader, article_id)
        best[key] = max(best.get(key, 0), count)
    return best
