"""Collection: every due feed fetched concurrently, parsed, normalised and stored.

Fetching runs on an asyncio event loop (`collect.concurrency` feeds at a time, each within
its own deadline); parsing, normalising and storing run one feed at a time on a single worker
thread while other feeds are still downloading. A feed that fails is recorded in the report
and in its health (backed off exponentially); the others still land.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from newsletter.collect import backoff
from newsletter.collect.address_guard import AddressRefused
from newsletter.collect.enrich import PageMetadata, enriched, needs_enrichment, page_metadata
from newsletter.collect.feeds import (
    FeedGone,
    Fetched,
    FetchLimits,
    Validators,
    fetch,
    make_client,
    parse,
)
from newsletter.collect.normalise import normalise
from newsletter.domain.errors import FeedError, UsageError
from newsletter.domain.model import ArticleDraft, FeedSource, FeedState, FeedStatus
from newsletter.domain.progress import NO_PROGRESS, Progress
from newsletter.runtime.wiring import Services

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


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


@dataclass(frozen=True)
class _Job:
    source: FeedSource
    state: FeedState
    feed_id: int


def collect(
    services: Services, only: str | None = None, progress: Progress = NO_PROGRESS
) -> CollectReport:
    """Fetch every due configured feed once (or only the feed named `only`, due or not)."""
    config = services.config
    sources = config.feed_sources()
    services.store.feeds.sync(sources)
    if only is not None and only not in {source.name for source in sources}:
        raise UsageError(f"no feed named {only!r} in {config.path}")
    now = services.clock()
    jobs: list[_Job] = []
    skipped: list[SkippedFeed] = []
    for source in sources:
        if only is not None and source.name != only:
            continue
        state = services.store.feeds.get(source.name)
        assert state is not None  # sync() just stored it
        reason = None if only is not None else backoff.why_not_due(state, now)
        if reason:
            skipped.append(SkippedFeed(source.name, reason, state.next_fetch_at))
            continue
        jobs.append(_Job(source, state, services.store.feeds.id_of(source.name)))
    outcomes = _run_on_a_loop(lambda: _collect_all(services, jobs, progress))
    return CollectReport(feeds=outcomes, skipped=skipped)


async def _collect_all(
    services: Services, jobs: list[_Job], progress: Progress
) -> list[FeedOutcome]:
    settings = services.config.settings.collect
    limits = FetchLimits(
        timeout=settings.timeout_seconds,
        max_bytes=settings.max_bytes,
        max_redirects=settings.max_redirects,
    )
    slots = asyncio.Semaphore(settings.concurrency)
    loop = asyncio.get_running_loop()
    progress.start(len(jobs))
    new = failed = 0

    async def one(job: _Job, client: Any, worker: ThreadPoolExecutor) -> FeedOutcome:
        result: Fetched | FeedError
        async with slots:
            try:
                validators = Validators(job.state.etag, job.state.last_modified)
                result = await fetch(
                    client, job.state.url, limits, validators, listed_url=job.source.url
                )
            except FeedError as exc:
                result = exc
        read = await loop.run_in_executor(worker, _guarded, services, job, _read, result)
        if isinstance(read, _Read) and settings.enrich:
            read = await _enrich(
                read, client, limits, slots, settings.enrich_max_per_feed, job.source.url
            )
        outcome = (
            await loop.run_in_executor(worker, _guarded, services, job, _save, read)
            if isinstance(read, _Read)
            else read
        )
        nonlocal new, failed
        new += outcome.new
        failed += outcome.status is FeedStatus.ERROR
        progress.advance(1, f"{new} new, {failed} failed · {outcome.name}")
        return outcome

    with ThreadPoolExecutor(1, thread_name_prefix="collect") as worker:
        async with make_client(settings.concurrency, limits) as client:
            return list(await asyncio.gather(*(one(job, client, worker) for job in jobs)))


@dataclass(frozen=True)
class _Read:
    """A feed's answer parsed and normalised, waiting to be stored."""

    fetched: Fetched
    body_hash: str
    entries: int
    drafts: list[ArticleDraft]
    without_link: int
    known: frozenset[str]  # URLs of drafts already stored: never enriched again


def _guarded(
    services: Services, job: _Job, step: Callable[[Services, _Job, Any], R], value: Any
) -> R | FeedOutcome:
    """Run one step of a feed's collection; a failure is recorded, never raised."""
    try:
        return step(services, job, value)
    except FeedError as exc:
        return _fail(services, job, exc)
    except Exception as exc:  # one feed's surprise must not stop the others
        log.exception("collecting feed %s failed", job.source.name)
        return _fail(services, job, FeedError(f"unexpected {type(exc).__name__}: {exc}"))


def _read(services: Services, job: _Job, result: Fetched | FeedError) -> _Read | FeedOutcome:
    """Parse and normalise a fetched feed; an unchanged feed is settled here."""
    if isinstance(result, FeedError):
        return _fail(services, job, result)
    state, name = job.state, job.source.name
    body_hash = hashlib.sha256(result.body).hexdigest() if not result.not_modified else None
    if result.not_modified or body_hash == state.body_hash:
        services.store.feeds.save(
            backoff.succeeded(
                state,
                services.clock(),
                FeedStatus.NOT_MODIFIED,
                etag=result.validators.etag or state.etag,
                last_modified=result.validators.last_modified or state.last_modified,
                body_hash=state.body_hash,
                moved_to=result.moved_to,
            )
        )
        return FeedOutcome(name, FeedStatus.NOT_MODIFIED, moved_to=result.moved_to)
    assert body_hash is not None
    parsed = parse(result.body, result.url, result.content_type)
    drafts = [normalise(entry, name, result.url) for entry in parsed.entries]
    kept = [draft for draft in drafts if draft is not None]
    known = services.store.articles.known_urls([draft.url for draft in kept])
    return _Read(result, body_hash, len(parsed.entries), kept, len(drafts) - len(kept), known)


def _save(services: Services, job: _Job, read: _Read) -> FeedOutcome:
    now = services.clock()
    # Feeds list their newest entry first; storing oldest first keeps undated entries in order.
    new = services.store.articles.add(job.feed_id, _oldest_first(read.drafts), now)
    result = read.fetched
    services.store.feeds.save(
        backoff.succeeded(
            job.state,
            now,
            FeedStatus.OK,
            etag=result.validators.etag,
            last_modified=result.validators.last_modified,
            body_hash=read.body_hash,
            moved_to=result.moved_to,
        )
    )
    return FeedOutcome(
        job.source.name,
        FeedStatus.OK,
        new=new,
        entries=read.entries,
        without_link=read.without_link,
        moved_to=result.moved_to,
    )


async def _enrich(
    read: _Read,
    client: Any,
    limits: FetchLimits,
    slots: asyncio.Semaphore,
    at_most: int,
    listed_url: str,
) -> _Read:
    """Fill in the summary or image of new, thin articles from their pages (OpenGraph, JSON-LD).

    Pages are fetched like feeds (same deadline, size cap, redirect limit, address guard: a
    public address or the origin of the feed the operator listed at `listed_url`) and only
    once: an article already stored is never fetched again. A page that fails or is refused
    leaves its article as is.
    """
    wanted = [
        index
        for index, draft in enumerate(read.drafts)
        if draft.url not in read.known and needs_enrichment(draft)
    ][:at_most]

    async def page(index: int) -> tuple[int, PageMetadata]:
        url = read.drafts[index].url
        async with slots:
            try:
                fetched = await fetch(client, url, limits, listed_url=listed_url)
            except AddressRefused as exc:  # a feed pointing inside the network: worth a look
                log.warning("enrichment refused for %s: %s", url, exc)
                return index, PageMetadata()
            except FeedError as exc:
                log.info("enrichment skipped for %s: %s", url, exc)
                return index, PageMetadata()
        return index, await asyncio.to_thread(page_metadata, fetched.body, fetched.url)

    drafts = list(read.drafts)
    for index, metadata in await asyncio.gather(*(page(i) for i in wanted)):
        drafts[index] = enriched(drafts[index], metadata)
    return replace(read, drafts=drafts)


def _oldest_first(drafts: list[ArticleDraft]) -> list[ArticleDraft]:
    return list(reversed(drafts))


def _fail(services: Services, job: _Job, error: FeedError) -> FeedOutcome:
    interval = timedelta(minutes=services.config.settings.collect.every_minutes)
    message = " ".join(str(error).split()) or type(error).__name__
    state = services.store.feeds.get(job.source.name) or job.state
    services.store.feeds.save(
        backoff.failed(state, services.clock(), message, interval, gone=isinstance(error, FeedGone))
    )
    return FeedOutcome(job.source.name, FeedStatus.ERROR, error=message)


def _run_on_a_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, also when called from code already inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="collect-loop") as thread:
        return thread.submit(lambda: asyncio.run(make())).result()
