"""Domain types. Frozen dataclasses and string enums; no I/O, no imports of ours."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
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


class SubscriberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"


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


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str | None
    status: SubscriberStatus
    created_at: datetime
    confirmed_at: datetime | None = None
    sections: tuple[str, ...] = ()  # the sections the reader chose; (): every section


class ConsentMethod(StrEnum):
    SIGN_UP = "sign-up"  # the person filled the form (double opt-in follows)
    IMPORT = "import"  # a list was imported; whoever imported it vouches, or --pending asks
    EDITOR = "editor"  # an editor added the address (desk or `subscribers add`)


@dataclass(frozen=True)
class ConsentRecord:
    """How a subscriber's consent was obtained: kept with the row as proof, shown on export."""

    method: ConsentMethod
    recorded_at: datetime  # when this was recorded: the request, the import, the editor's add
    given_at: datetime | None = None  # when the person consented, when known
    source: str | None = None  # the form (web-form, web-json, desk, cli) or the import's column
    ip: str | None = None
    text: str | None = None  # the version of the consent text the person saw
    by: str | None = None  # the editor, or the OS user who ran the command
    file: str | None = None  # the imported file's name


PREFERENCES_URL = "preferences_url"
CLICK_PREFIX = "click_"


@dataclass(frozen=True)
class Recipient:
    """One address of a batch, with what its copy is personalised with."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str | None
    unsubscribe_url: str
    # Further per-copy values by placeholder name (Placeholders.named): the preferences link,
    # the click links of the articles.
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Placeholders:
    """The markers a render leaves for each recipient's values (unsubscribe link, name).

    Each render draws a new random nonce and spells its markers with it, so no text from
    outside (a feed, an editor, a reader's name) can ever produce one: only what the templates
    put where the render asked is filled in.
    """

    nonce: str

    @classmethod
    def fresh(cls) -> Placeholders:
        return cls(secrets.token_hex(12))

    @property
    def unsubscribe_url(self) -> str:
        return f"%%unsubscribe_url_{self.nonce}%%"

    @property
    def name(self) -> str:
        return f"%%name_{self.nonce}%%"

    def named(self, key: str) -> str:
        """The marker of per-copy value `key` (letters, digits and underscores)."""
        return f"%%{key}_{self.nonce}%%"

    @property
    def preferences_url(self) -> str:
        return self.named(PREFERENCES_URL)

    def click(self, article_id: int) -> str:
        """The marker of the tracked link to article `article_id` (a /c/ URL per copy)."""
        return self.named(f"{CLICK_PREFIX}{int(article_id)}")

    def clicked_articles(self, *texts: str) -> tuple[int, ...]:
        """The article ids whose click markers appear in `texts`, in order, each once."""
        found: dict[int, None] = {}
        start, end = f"%%{CLICK_PREFIX}", f"_{self.nonce}%%"
        for text in texts:
            for piece in text.split(start)[1:]:
                digits = len(piece) - len(piece.lstrip("0123456789"))
                if digits and piece[digits:].startswith(end):
                    found.setdefault(int(piece[:digits]), None)
        return tuple(found)

    def is_marker(self, value: str) -> bool:
        """Whether `value` is exactly one of this render's markers."""
        if not (value.startswith("%%") and value.endswith(f"_{self.nonce}%%")):
            return False
        key = value[2 : -len(self.nonce) - 3]
        return bool(key) and all(ch.isalnum() or ch == "_" for ch in key)

    @property
    def name_html(self) -> str:
        """The HTML-escaped name, for providers that fill in text and HTML with one value each."""
        return f"%%name_html_{self.nonce}%%"


@dataclass(frozen=True)
class RenderedMessage:
    """A message rendered once, holding placeholders that each recipient's copy fills in."""

    subject: str
    preheader: str
    html: str
    text: str
    issue_id: int | None = None
    categories: tuple[str, ...] = ()
    placeholders: Placeholders = field(default_factory=Placeholders.fresh)


@dataclass(frozen=True)
class DeliveryCounts:
    id: int
    state: IssueState
    total: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0
    sending: int = 0


@dataclass(frozen=True)
class BatchResult:
    """What a provider did with one batch, by delivery id; every other recipient was sent.

    `failed`: refused for good, with the reason. `uncertain`: the request went out but its answer
    was lost (a timeout after the body was sent), so it may have been delivered: never retried
    automatically. `deferred`: not sent because of a transient error (`deferred_error`, with an
    optional `retry_after` in seconds); the sender retries them later.
    """

    failed: dict[int, str] = field(default_factory=dict)
    uncertain: dict[int, str] = field(default_factory=dict)
    deferred: tuple[int, ...] = ()
    deferred_error: str = ""
    retry_after: float | None = None


class EventAction(StrEnum):
    """What a provider event asks of the list and the ledger."""

    DELIVERED = "delivered"  # the provider took or delivered it: an uncertain delivery was sent
    BOUNCED = "bounced"  # hard bounce or dropped: never mail the address again
    COMPLAINED = "complained"  # marked as spam
    UNSUBSCRIBED = "unsubscribed"  # unsubscribed through the provider
    COUNTED = "counted"  # open or click: statistics only
    IGNORED = "ignored"  # deferred, soft bounce, unknown event


@dataclass(frozen=True)
class ProviderEvent:
    """One event of the provider's webhook, reduced to what the newsletter acts on."""

    event_id: str
    kind: str
    action: EventAction
    email: str | None = None
    delivery_id: int | None = None
    issue_id: int | None = None
    reason: str | None = None
    url: str | None = None  # a click's link
    article_id: int | None = None  # the article a click's /c/ link names (checked token)
