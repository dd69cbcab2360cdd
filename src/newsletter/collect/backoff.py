"""Feed health: what a fetch does to a feed's state, and when a failing feed is tried again.

Pure. A failure pushes the next try back exponentially (the collect interval, doubled per
consecutive failure, at most a day); a success clears it. HTTP 410 pauses the feed until its
URL changes in the configuration; a permanent redirect (301/308) moves it to its new URL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from newsletter.domain.model import FeedState, FeedStatus

MAX_BACKOFF = timedelta(hours=24)
# A scheduler tick lands a little before the exact end of a back-off (the failure was recorded
# a moment after the previous tick started): a feed that close to due is due.
EARLY_GRACE = timedelta(minutes=1)
ERROR_LENGTH = 500


def backoff(failures: int, interval: timedelta) -> timedelta:
    """How long to wait after `failures` consecutive failures: interval x 2^(failures-1)."""
    if failures <= 0:
        return timedelta(0)
    wait: timedelta = interval * 2 ** min(failures - 1, 20)
    return min(wait, MAX_BACKOFF)


def succeeded(
    state: FeedState,
    now: datetime,
    status: FeedStatus,
    *,
    etag: str | None,
    last_modified: str | None,
    body_hash: str | None,
    moved_to: str | None = None,
) -> FeedState:
    """The state after a fetch that worked (new content or not modified)."""
    return replace(
        state,
        url=moved_to or state.url,
        etag=etag,
        last_modified=last_modified,
        body_hash=body_hash,
        last_fetched_at=now,
        last_status=status.value,
        last_error=None,
        consecutive_failures=0,
        next_fetch_at=None,
    )


def failed(
    state: FeedState, now: datetime, error: str, interval: timedelta, *, gone: bool = False
) -> FeedState:
    """The state after a failed fetch or parse: backed off, or paused when the feed is gone."""
    failures = state.consecutive_failures + 1
    return replace(
        state,
        last_fetched_at=now,
        last_status=FeedStatus.ERROR.value,
        last_error=error[:ERROR_LENGTH],
        consecutive_failures=failures,
        next_fetch_at=now + backoff(failures, interval),
        paused=state.paused or gone,
    )


def why_not_due(state: FeedState, now: datetime) -> str | None:
    """Why a scheduled collection leaves this feed alone now, or None when it is due."""
    if state.paused:
        return f"paused: {state.last_error or 'the feed is gone'}"
    if state.next_fetch_at is not None and state.next_fetch_at > now + EARLY_GRACE:
        return (
            f"backing off after {state.consecutive_failures} failure(s) until "
            f"{state.next_fetch_at.isoformat(timespec='seconds')}"
        )
    return None
