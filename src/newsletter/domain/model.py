"""The content's types: feeds, articles, issues. Frozen dataclasses and string enums; no I/O,
no imports of ours.

The readers' types are in `domain.readers`, what is sent to them in `domain.delivery`: a command
defines only the classes it uses (each frozen dataclass costs its start-up about a millisecond).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsletter.domain.funding import FundingFacts

MAX_ROW_ID = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL


class FeedStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


class IssueState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELED = "canceled"


@dataclass(frozen=True)
class FeedSource:
    """A feed as configured: where to read it and which section its articles go to."""

    name: str
    url: str
    section: str | None = None
    title: str | None = None  # display name; None: the feed's own title, else the name
    weight: float = 1.0


@dataclass(frozen=True)
class FeedState:
    """What the store remembers of a feed between fetches."""

    name: str
    url: str
    feed_title: str | None = None  # the feed's own title, as last fetched
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_fetched_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_fetch_at: datetime | None = None
    paused: bool = False


@dataclass(frozen=True)
class ArticleDraft:
    """A normalised feed entry, before it is stored."""

    feed_name: str
    guid: str
    url: str
    title: str
    summary: str
    content_html: str
    image_url: str | None
    author: str | None
    published_at: datetime | None
    categories: tuple[str, ...] = ()
    # The image's pixel size as the feed or the page declared it; None when not declared.
    image_width: int | None = None
    image_height: int | None = None
    # The link's plain fragment (`2026-02-11`): kept for items of one feed sharing a link.
    anchor: str | None = None


@dataclass(frozen=True, kw_only=True)
class Article(ArticleDraft):
    """A stored draft: its row id, when it was collected, and its feed's section."""

    id: int
    collected_at: datetime
    section: str | None = None
    source: str | None = None  # the feed's display name (config title, else its own title)
    # Its story's funding round as an editor (or the draft, for its story) set it; with
    # `funding_set`, None means "no round". Unset: read from its words (`funding_facts`).
    funding: FundingFacts | None = None
    funding_set: bool = False

    @property
    def source_name(self) -> str:
        """The name readers see for this article's source."""
        return self.source or self.feed_name

    @property
    def funding_facts(self) -> FundingFacts | None:
        """The funding round this article announces: as set for its story, else as read."""
        # Imported here: reading rounds costs the commands that never ask (`issue list`).
        from newsletter.domain.funding import extract

        return self.funding if self.funding_set else extract(self.title, self.summary)


@dataclass(frozen=True)
class IssueItem:
    article: Article
    position: int
    section: str | None = None
    title: str | None = None
    summary: str | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.article.title

    @property
    def display_summary(self) -> str:
        return self.summary if self.summary is not None else self.article.summary


@dataclass(frozen=True)
class Issue:
    id: int
    number: int
    state: IssueState
    subject: str
    preheader: str
    intro: str
    created_at: datetime
    send_at: datetime | None = None
    sent_at: datetime | None = None
    items: tuple[IssueItem, ...] = ()
    # Numbers are given when sending starts, so a canceled draft leaves no gap; until then
    # `number` is the one the issue would get if it were sent next, and `numbered` is False.
    numbered: bool = True
