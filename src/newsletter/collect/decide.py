"""What a collection run does with each feed, decided without I/O.

The pipeline (newsletter.collect.pipeline) fetches and stores; these functions take what it
fetched and what the store remembers, and return what to do: which feeds to fetch now and why
the others wait (`plan`), the new feed state and outcome of a fetch that settles the feed
(`settle`, `failed`), or the articles a fresh answer holds (`Fresh`), and the state once they
are stored (`stored`). Parsing and normalising are pure too: they happen here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from newsletter.collect import backoff
from newsletter.collect.fetch import Fetched
from newsletter.collect.normalise import feed_title, normalise
from newsletter.collect.parse import parse
from newsletter.domain.errors import FeedError, FeedGone
from newsletter.domain.model import ArticleDraft, FeedSource, FeedState, FeedStatus


@dataclass(frozen=True)
class FeedOutcome:
    """What one feed gave in this run."""

    name: str
    status: FeedStatus
    new: int = 0
    error: str | None = None
    entries: int = 0  # entries the feed holds
    without_link: int = 0  # entries left out: no http(s) link to point readers to
    moved_to: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "new": self.new,
            "error": self.error,
            "entries": self.entries,
            "without_link": self.without_link,
            "moved_to": self.moved_to,
        }


@dataclass(frozen=True)
class SkippedFeed:
    """A feed not fetched in this run: paused, or backing off after failures."""

    name: str
    reason: str
    next_try: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "reason": self.reason,
            "next_try": self.next_try.isoformat() if self.next_try else None,
        }


@dataclass(frozen=True)
class CollectReport:
    feeds: list[FeedOutcome] = field(default_factory=list)
    skipped: list[SkippedFeed] = field(default_factory=list)

    @property
    def new_articles(self) -> int:
        return sum(outcome.new for outcome in self.feeds)

    @property
    def failed(self) -> list[FeedOutcome]:
        return [outcome for outcome in self.feeds if outcome.status is FeedStatus.ERROR]

    def to_json(self) -> dict[str, Any]:
        return {
            "feeds": [outcome.to_json() for outcome in self.feeds],
            "new_articles": self.new_articles,
            "skipped": [skipped.to_json() for skipped in self.skipped],
        }


def plan(
    sources: Sequence[FeedSource],
    states: dict[str, FeedState],
    now: datetime,
    only: str | None = None,
) -> tuple[list[FeedSource], list[SkippedFeed]]:
    """The feeds to fetch now, and those left alone with why (`only`: that feed, due or not)."""
    due: list[FeedSource] = []
    skipped: list[SkippedFeed] = []
    for source in sources:
        if only is not None and source.name != only:
            continue
        state = states[source.name]
        reason = None if only is not None else backoff.why_not_due(state, now)
        if reason:
            skipped.append(SkippedFeed(source.name, reason, state.next_fetch_at))
        else:
            due.append(source)
    return due, skipped


@dataclass(frozen=True)
class Settled:
    """The feed's run is decided: store `state`, report `outcome`."""

    state: FeedState
    outcome: FeedOutcome


@dataclass(frozen=True)
class Fresh:
    """A new answer, parsed and normalised: its articles wait to be stored (then `stored`)."""

    fetched: Fetched
    body_hash: str
    entries: int
    drafts: list[ArticleDraft]
    without_link: int
    feed_title: str = ""


def settle(
    state: FeedState, fetched: Fetched, now: datetime, interval: timedelta
) -> Settled | Fresh:
    """An unchanged feed (304, or the same bytes) is settled; a new answer is read into drafts.

    A body that is not a usable feed settles the feed as failed.
    """
    body_hash = None if fetched.not_modified else hashlib.sha256(fetched.body).hexdigest()
    if body_hash is None or body_hash == state.body_hash:
        unchanged = backoff.succeeded(
            state,
            now,
            FeedStatus.NOT_MODIFIED,
            etag=fetched.validators.etag or state.etag,
            last_modified=fetched.validators.last_modified or state.last_modified,
            body_hash=state.body_hash,
            moved_to=fetched.moved_to,
        )
        outcome = FeedOutcome(state.name, FeedStatus.NOT_MODIFIED, moved_to=fetched.moved_to)
        return Settled(unchanged, outcome)
    try:
        parsed = parse(fetched.body, fetched.url, fetched.content_type)
    except FeedError as exc:
        return failed(state, exc, now, interval)
    drafts = [normalise(entry, state.name, fetched.url) for entry in parsed.entries]
    kept = [draft for draft in drafts if draft is not None]
    title = feed_title(parsed.title)
    return Fresh(fetched, body_hash, len(parsed.entries), kept, len(drafts) - len(kept), title)


def to_store(fresh: Fresh) -> list[ArticleDraft]:
    """The drafts in storing order: feeds list their newest entry first; storing oldest first
    keeps undated entries in order."""
    return list(reversed(fresh.drafts))


def stored(state: FeedState, fresh: Fresh, new: int, now: datetime) -> Settled:
    """The feed once the articles of a fresh answer are stored (`new` of them were new)."""
    fetched = fresh.fetched
    ok = backoff.succeeded(
        state,
        now,
        FeedStatus.OK,
        etag=fetched.validators.etag,
        last_modified=fetched.validators.last_modified,
        body_hash=fresh.body_hash,
        moved_to=fetched.moved_to,
    )
    ok = replace(ok, feed_title=fresh.feed_title or state.feed_title)
    outcome = FeedOutcome(
        state.name,
        FeedStatus.OK,
        new=new,
        entries=fresh.entries,
        without_link=fresh.without_link,
        moved_to=fetched.moved_to,
    )
    return Settled(ok, outcome)


def failed(state: FeedState, error: FeedError, now: datetime, interval: timedelta) -> Settled:
    """The feed after a failed fetch or parse: backed off, or paused when it is gone (410)."""
    message = " ".join(str(error).split()) or type(error).__name__
    backed_off = backoff.failed(state, now, message, interval, gone=isinstance(error, FeedGone))
    return Settled(backed_off, FeedOutcome(state.name, FeedStatus.ERROR, error=message))
