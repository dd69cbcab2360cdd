"""Read models of the editors' desk: the feeds' sections, subscriber
search and the list's growth."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from newsletter.domain.readers import Subscriber, SubscriberStatus
from newsletter.store.engine import Repository
from newsletter.store.reader_tables import subscribers
from newsletter.store.search import accent_folded_match
from newsletter.store.subscriber_rows import to_subscriber
from newsletter.store.tables import feeds


class DeskQueries(Repository):
    # -- inbox ---------------------------------------------------------------------------------

    def sections(self) -> set[str]:
        """The stored feeds' sections (the desk puts them in order)."""
        query = select(feeds.c.section).where(feeds.c.section.is_not(None)).distinct()
        with self.engine.connect() as connection:
            return {str(s) for s in connection.execute(query).scalars() if s}

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
