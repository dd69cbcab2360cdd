"""The collection decider: what a fetch answer does to a feed, computed without I/O."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from newsletter.collect import decide
from newsletter.collect.decide import Fresh, Settled
from newsletter.collect.fetch import Fetched, Validators
from newsletter.domain.errors import FeedGone, FetchError
from newsletter.domain.model import FeedSource, FeedState, FeedStatus

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)
URL = "https://example.org/feed.xml"
FEED = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    b"<item><title>Old</title><link>https://example.org/old</link></item>"
    b"<item><title>New</title><link>https://example.org/new</link></item>"
    b"<item><title>No link</title><link>javascript:alert(1)</link></item>"
    b"</channel></rss>"
)


def state(**changes: object) -> FeedState:
    return FeedState("f", URL, **changes)  # type: ignore[arg-type]


def test_plan_skips_backing_off_and_paused_feeds_unless_named() -> None:
    """A feed backing off or paused waits, with the reason; naming it fetches it anyway."""
    sources = [FeedSource("ok", URL), FeedSource("later", URL), FeedSource("gone", URL)]
    states = {
        "ok": FeedState("ok", URL),
        "later": FeedState("later", URL, consecutive_failures=2, next_fetch_at=NOW + INTERVAL),
        "gone": FeedState("gone", URL, paused=True, last_error="HTTP 410"),
    }

    due, skipped = decide.plan(sources, states, NOW)
    named, none_skipped = decide.plan(sources, states, NOW, only="gone")

    assert [source.name for source in due] == ["ok"]
    assert [(s.name, s.reason.split(":")[0].split(" ")[0]) for s in skipped] == [
        ("later", "backing"),
        ("gone", "paused"),
    ]
    assert ([source.name for source in named], none_skipped) == (["gone"], [])


def test_not_modified_and_same_bytes_settle_without_parsing() -> None:
    """A 304 keeps the stored validators it did not resend; the same bytes are not read again."""
    stored = state(etag='"v1"', body_hash=hashlib.sha256(b"not even xml").hexdigest())
    not_modified = Fetched(URL, 304, validators=Validators(last_modified="Mon"))
    same_bytes = Fetched(URL, 200, body=b"not even xml")

    for fetched in (not_modified, same_bytes):
        decided = decide.settle(stored, fetched, NOW, INTERVAL)
        assert isinstance(decided, Settled)
        assert decided.outcome.status is FeedStatus.NOT_MODIFIED
        assert decided.state.last_status == FeedStatus.NOT_MODIFIED.value
        assert decided.state.etag == '"v1"'
    assert decide.settle(stored, not_modified, NOW, INTERVAL).state.last_modified == "Mon"


def test_a_new_answer_becomes_drafts_stored_oldest_first() -> None:
    """Entries without an http(s) link are counted and left out; storing order is oldest first."""
    fetched = Fetched(URL, 200, body=FEED, validators=Validators(etag='"v2"'), moved_to=None)

    decided = decide.settle(state(), fetched, NOW, INTERVAL)

    assert isinstance(decided, Fresh)
    assert (decided.entries, decided.without_link) == (3, 1)
    assert [d.url for d in decide.to_store(decided)] == [
        "https://example.org/new",
        "https://example.org/old",
    ]
    done = decide.stored(state(consecutive_failures=3), decided, 2, NOW)
    assert (done.outcome.status, done.outcome.new) == (FeedStatus.OK, 2)
    assert (done.state.etag, done.state.consecutive_failures) == ('"v2"', 0)
    assert done.state.body_hash == hashlib.sha256(FEED).hexdigest()


def test_an_unreadable_answer_backs_the_feed_off() -> None:
    """An HTML page instead of a feed settles as a failure, backed off by the interval."""
    page = Fetched(URL, 200, body=b"<!DOCTYPE html><html><body>Hi</body></html>")

    decided = decide.settle(state(), page, NOW, INTERVAL)

    assert isinstance(decided, Settled)
    assert decided.outcome.status is FeedStatus.ERROR
    assert "not a feed" in (decided.outcome.error or "")
    assert (decided.state.consecutive_failures, decided.state.next_fetch_at) == (1, NOW + INTERVAL)


def test_a_gone_feed_is_paused_and_other_failures_are_not() -> None:
    """HTTP 410 pauses the feed; any other fetch error backs it off. The error names the URL."""
    gone = decide.failed(state(), FeedGone("HTTP 410 Gone", url=URL, status=410), NOW, INTERVAL)
    down = decide.failed(state(), FetchError("HTTP 503", url=URL, status=503), NOW, INTERVAL)

    assert (gone.state.paused, down.state.paused) == (True, False)
    expected = (f"HTTP 410 Gone ({URL})", f"HTTP 503 ({URL})")
    assert expected == (gone.outcome.error, down.outcome.error)
