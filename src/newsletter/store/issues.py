"""Issues and their items. State changes are compare-and-set so two processes cannot race."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, RowMapping, func, or_, select

from newsletter.domain.model import MAX_ROW_ID, Issue, IssueItem, IssueState
from newsletter.render.subject import fill_subject
from newsletter.store.articles import article_query, to_article
from newsletter.store.dialect import insert_ignore
from newsletter.store.engine import Repository
from newsletter.store.rows import from_row
from newsletter.store.tables import articles, issue_items, issues, segment_renders

if TYPE_CHECKING:
    from newsletter.domain.delivery import RenderedMessage


@dataclass(frozen=True)
class NewItem:
    article_id: int
    section: str | None = None
    title: str | None = None
    summary: str | None = None


class IssueRepository(Repository):
    def create(
        self,
        subject: str,
        items: Sequence[NewItem],
        created_at: datetime,
        preheader: str = "",
        intro: str = "",
        number: int | None = None,
    ) -> Issue:
        """A new draft, numbered only when given a `number` (sending numbers the others, see
        DeliveryRepository.start); `{number}` in the subject is filled in then."""
        with self.engine.begin() as connection:
            issue_id = connection.execute(
                issues.insert().values(
                    number=number,
                    state=IssueState.DRAFT,
                    subject=fill_subject(subject, number=number),
                    preheader=preheader,
                    intro=intro,
                    created_at=created_at,
                )
            ).inserted_primary_key
            assert issue_id is not None
            issue_id = issue_id[0]
            _insert_items(connection, int(issue_id), items)
        issue = self.get(int(issue_id))
        assert issue is not None
        return issue

    def get(self, issue_id: int) -> Issue | None:
        if not 0 < issue_id <= MAX_ROW_ID:
            return None  # no such row, and larger numbers overflow the column type
        with self.engine.connect() as connection:
            row = connection.execute(select(issues).where(issues.c.id == issue_id)).mappings()
            found = row.first()
            if found is None:
                return None
            item_rows = connection.execute(
                article_query()
                .add_columns(
                    issue_items.c.position,
                    issue_items.c.section.label("item_section"),
                    issue_items.c.title.label("item_title"),
                    issue_items.c.summary.label("item_summary"),
                )
                .join(issue_items, issue_items.c.article_id == articles.c.id)
                .where(issue_items.c.issue_id == issue_id)
                .order_by(issue_items.c.position)
            ).mappings()
            items = tuple(
                IssueItem(
                    article=to_article(item),
                    position=item["position"],
                    section=item["item_section"],
                    title=item["item_title"],
                    summary=item["item_summary"],
                )
                for item in item_rows
            )
            upcoming = next_number(connection)
        return _issue(found, items, upcoming)

    def all(self, text: str | None = None) -> list[tuple[Issue, int]]:
        """Every issue, newest first, with how many articles it holds; with `text`, those whose
        subject, preheader or sent text contain it (accents and case aside)."""
        counts = (
            select(issue_items.c.issue_id, func.count().label("n"))
            .group_by(issue_items.c.issue_id)
            .subquery()
        )
        query = (
            select(issues, func.coalesce(counts.c.n, 0).label("article_count"))
            .outerjoin(counts, counts.c.issue_id == issues.c.id)
            .order_by(issues.c.number.is_(None).desc(), issues.c.number.desc(), issues.c.id.desc())
        )
        if text:
            from newsletter.store.search import accent_folded_match  # only to search

            query = query.where(
                or_(
                    accent_folded_match(issues.c.subject, text),
                    accent_folded_match(issues.c.preheader, text),
                    accent_folded_match(issues.c.rendered_text, text),
                )
            )
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
            upcoming = next_number(connection)
        return [(_issue(row, (), upcoming), int(row["article_count"])) for row in rows]

    def open_draft(self) -> Issue | None:
        """The draft being edited, if there is one (the oldest, should there be several)."""
        query = (
            select(issues.c.id)
            .where(issues.c.state == IssueState.DRAFT)
            .order_by(issues.c.id)
            .limit(1)
        )
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return None if found is None else self.get(int(found))

    def transition(
        self,
        issue_id: int,
        allowed_from: Sequence[IssueState],
        to: IssueState,
        **values: object,
    ) -> bool:
        """Move the issue to `to` if it is in one of `allowed_from`; False if it was not."""
        with self.engine.begin() as connection:
            result = connection.execute(
                issues.update()
                .where(issues.c.id == issue_id, issues.c.state.in_(list(allowed_from)))
                .values(state=to, **values)
            )
        return result.rowcount == 1

    def due(self, now: datetime) -> list[int]:
        """Ids of scheduled issues whose send time has come, and of sends left unfinished."""
        query = (
            select(issues.c.id)
            .where(
                ((issues.c.state == IssueState.SCHEDULED) & (issues.c.send_at <= now))
                | (issues.c.state == IssueState.SENDING)
            )
            .order_by(issues.c.send_at, issues.c.id)
        )
        with self.engine.connect() as connection:
            return [int(i) for i in connection.execute(query).scalars()]

    def freeze_render(self, issue_id: int, rendered: RenderedMessage) -> None:
        """Keep the render that sending starts with; later runs resume with the same email."""
        with self.engine.begin() as connection:
            connection.execute(
                issues.update()
                .where(issues.c.id == issue_id, issues.c.rendered_html.is_(None))
                .values(_render_columns(rendered, "rendered_"))
            )

    def frozen_render(self, issue_id: int) -> RenderedMessage | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(issues).where(issues.c.id == issue_id)).mappings().first()
            )
        if row is None or row["rendered_html"] is None:
            return None
        return _rendered(row, issue_id, "rendered_")

    def latest_sent(self) -> Issue | None:
        """The issue sent last, if any."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(issues.c.id)
                .where(issues.c.state == IssueState.SENT)
                .order_by(issues.c.sent_at.desc(), issues.c.id.desc())
                .limit(1)
            ).scalar()
        return self.get(int(found)) if found is not None else None

    def freeze_segment_render(self, issue_id: int, segment: str, rendered: RenderedMessage) -> None:
        """Keep the render of one segment (readers who chose some sections); the first kept
        wins, so concurrent runs send the same email."""
        with self.engine.begin() as connection:
            connection.execute(
                insert_ignore(connection, segment_renders).values(
                    issue_id=issue_id, segment=segment, **_render_columns(rendered, "")
                )
            )

    def segment_render(self, issue_id: int, segment: str) -> RenderedMessage | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(segment_renders).where(
                        segment_renders.c.issue_id == issue_id, segment_renders.c.segment == segment
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        return _rendered(row, issue_id, "")

    def update_content(
        self,
        issue_id: int,
        *,
        subject: str | None = None,
        preheader: str | None = None,
        intro: str | None = None,
    ) -> None:
        values = {
            key: value
            for key, value in (("subject", subject), ("preheader", preheader), ("intro", intro))
            if value is not None
        }
        if values:
            with self.engine.begin() as connection:
                connection.execute(issues.update().where(issues.c.id == issue_id).values(**values))

    def replace_items(self, issue_id: int, items: Sequence[NewItem]) -> None:
        with self.engine.begin() as connection:
            connection.execute(issue_items.delete().where(issue_items.c.issue_id == issue_id))
            _insert_items(connection, issue_id, items)


def _insert_items(connection: Connection, issue_id: int, items: Sequence[NewItem]) -> None:
    """The items in order: their position is their index."""
    if items:
        connection.execute(
            issue_items.insert(),
            [
                {
                    "issue_id": issue_id,
                    "article_id": item.article_id,
                    "position": position,
                    "section": item.section,
                    "title": item.title,
                    "summary": item.summary,
                }
                for position, item in enumerate(items)
            ],
        )


def next_number(connection: Connection) -> int:
    """The number the next issue to be sent gets: numbers go up by one, without gaps."""
    last = connection.execute(select(func.max(issues.c.number))).scalar()
    return int(last or 0) + 1


def _issue(row: RowMapping, items: tuple[IssueItem, ...], upcoming: int) -> Issue:
    numbered = row["number"] is not None
    return from_row(
        Issue,
        row,
        number=row["number"] if numbered else upcoming,
        numbered=numbered,
        state=IssueState(row["state"]),
        items=items,
    )


def _render_columns(rendered: RenderedMessage, prefix: str) -> dict[str, str]:
    """A frozen render as the columns that keep it: `rendered_*` on issues, bare on
    segment_renders."""
    return {
        f"{prefix}subject": rendered.subject,
        f"{prefix}preheader": rendered.preheader,
        f"{prefix}html": rendered.html,
        f"{prefix}text": rendered.text,
        f"{prefix}placeholders": rendered.placeholders.nonce,
    }


def _rendered(row: RowMapping, issue_id: int, prefix: str) -> RenderedMessage:
    """The render `_render_columns` kept."""
    # Imported here: the commands that only list issues never read a render.
    from newsletter.domain.delivery import Placeholders, RenderedMessage

    return RenderedMessage(
        subject=row[f"{prefix}subject"],
        preheader=row[f"{prefix}preheader"],
        html=row[f"{prefix}html"],
        text=row[f"{prefix}text"],
        issue_id=issue_id,
        placeholders=Placeholders(row[f"{prefix}placeholders"]),
    )
