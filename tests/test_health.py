"""Feed health transitions: back-off, pause, recovery, redirects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsletter.collect import backoff
from newsletter.domain.model import FeedState, FeedStatus

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=30)


def test_backoff_doubles_per_failure_up_to_a_day() -> None:
    """30 min, 1 h, 2 h, ... never more than 24 h."""
    waits = [backoff.backoff(n, INTERVAL) for n in (1, 2, 3, 4, 30)]

    assert waits == [
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=2),
        timedelta(hours=4),
        timedelta(hours=24),
    ]


def test_failure_counts_and_schedules_the_next_try() -> None:
    """A failure records the error and when to try again; the feed is not due before."""
    state = backoff.failed(FeedState("f", "https://f"), NOW, "HTTP 500", INTERVAL)
    again = backoff.failed(state, NOW, "HTTP 500", INTERVAL)

    assert (state.consecutive_failures, state.next_fetch_at) == (1, NOW + INTERVAL)
    assert (again.consecutive_failures, again.next_fetch_at) == (2, NOW + 2 * INTERVAL)
    assert state.last_status == FeedStatus.ERROR.value and state.last_error == "HTTP 500"
    assert backoff.why_not_due(state, NOW) is not None
    assert backoff.why_not_due(state, NOW + INTERVAL - timedelta(seconds=30)) is None


def test_gone_pauses_until_the_configuration_changes() -> None:
    """A 410 pauses the feed: never due, whatever the time."""
    state = backoff.failed(FeedState("f", "https://f"), NOW, "HTTP 410 Gone", INTERVAL, gone=True)

    assert state.paused
    assert (backoff.why_not_due(state, NOW + timedelta(days=365)) or "").startswith("paused")


def test_success_resets_failures_and_follows_a_permanent_redirect() -> None:
    """A success clears the back-off, stores validators and the moved URL."""
    failing = backoff.failed(FeedState("f", "https://old"), NOW, "timeout", INTERVAL)

    state = backoff.succeeded(
        failing,
        NOW,
        FeedStatus.OK,
        etag='"v2"',
        last_modified=None,
        body_hash="abc",
        moved_to="https://new",
    )

    assert (state.url, state.etag, state.body_hash) == ("https://new", '"v2"', "abc")
    assert (state.consecutive_failures, state.next_fetch_at, state.last_error) == (0, None, None)
    assert backoff.why_not_due(state, NOW) is None
