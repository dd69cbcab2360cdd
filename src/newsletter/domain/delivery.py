"""What is sent to readers and what comes back: rendered messages and their placeholders, each
copy's recipient, the ledger's states and counts, the provider's results and events. Pure."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from newsletter.domain.model import IssueState


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    SKIPPED = "skipped"


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
