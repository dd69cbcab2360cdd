"""Collection: every due feed fetched concurrently, parsed, normalised and stored.

Fetching runs on an asyncio event loop (`concurrency` feeds at a time, each within its own
deadline); parsing, normalising and storing run one feed at a time on a single worker thread
while other feeds are still downloading. A feed that fails is recorded in the report and in its
health (backed off exponentially); the others still land.

This module does the I/O; what to do with each answer is decided in newsletter.collect.decide.
It takes what it needs (the feed and article repositories, the clock, the configured sources,
the limits), never the whole application.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx

from newsletter.collect import decide
from newsletter.collect.address_guard import AddressRefused
from newsletter.collect.decide import CollectReport, FeedOutcome, Fresh, Settled
from newsletter.collect.enrich import PageMetadata, enriched, needs_enrichment, page_metadata
from newsletter.collect.fetch import Fetched, FetchLimits, Validators, fetch, make_client
from newsletter.domain.clock import Clock
from newsletter.domain.errors import FeedError, UsageError
from newsletter.domain.model import ArticleDraft, FeedSource, FeedState, FeedStatus
from newsletter.domain.progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class FeedStates(Protocol):
    """What collection needs of the feed repository."""

    def sync(self, sources: list[FeedSource]) -> None: ...
    def get(self, name: str) -> FeedState | None: ...
    def id_of(self, name: str) -> int: ...
    def save(self, state: FeedState) -> None: ...


class ArticleStore(Protocol):
    """What collection needs of the article repository."""

    def add(self, feed_id: int, drafts: Iterable[ArticleDraft], collected_at: datetime) -> int: ...
    def known_urls(self, urls: Sequence[str]) -> frozenset[str]: ...


@dataclass(frozen=True)
class CollectSettings:
    """The limits of one run: per fetch, in parallel, between runs, and for enrichment."""

    limits: FetchLimits
    concurrency: int
    interval: timedelta  # between scheduled runs: the unit of a failing feed's back-off
    enrich: bool = False
    enrich_max_per_feed: int = 10


@dataclass(frozen=True)
class Collector:
    """One collection's dependencies: narrow, passed in by the wiring."""

    feeds: FeedStates
    articles: ArticleStore
    clock: Clock
    settings: CollectSettings


@dataclass(frozen=True)
class _Job:
    source: FeedSource
    state: FeedState
    feed_id: int


def collect(
    collector: Collector,
    sources: list[FeedSource],
    only: str | None = None,
    progress: Progress = NO_PROGRESS,
    sources_from: str = "the configuration",
) -> CollectReport:
    """Fetch every due feed of `sources` once (or only the feed named `only`, due or not).

    `sources_from` names where the sources are listed, for the error on an unknown `only`.
    """
    collector.feeds.sync(sources)
    if only is not None and only not in {source.name for source in sources}:
        raise UsageError(f"no feed named {only!r} in {sources_from}")
    states = {}
    for source in sources:
        state = collector.feeds.get(source.name)
        assert state is not None  # sync() just stored it
        states[source.name] = state
    due, skipped = decide.plan(sources, states, collector.clock(), only)
    jobs = [_Job(source, states[source.name], collector.feeds.id_of(source.name)) for source in due]
    outcomes = _run_on_a_loop(lambda: _collect_all(collector, jobs, progress))
    return CollectReport(feeds=outcomes, skipped=skipped)


async def _collect_all(
    collector: Collector, jobs: list[_Job], progress: Progress
) -> list[FeedOutcome]:
    settings = collector.settings
    limits = settings.limits
    slots = asyncio.Semaphore(settings.concurrency)
    loop = asyncio.get_running_loop()
    progress.start(len(jobs))
    new = failed = 0

    async def one(job: _Job, client: httpx.AsyncClient, worker: ThreadPoolExecutor) -> FeedOutcome:
        result: Fetched | FeedError
        async with slots:
            try:
                validators = Validators(job.state.etag, job.state.last_modified)
                result = await fetch(
                    client, job.state.url, limits, validators, listed_url=job.source.url
                )
            except FeedError as exc:
                result = exc
        read = await loop.run_in_executor(worker, _guarded, collector, job, _read, result)
        if isinstance(read, _Read) and settings.enrich:
            read = await _enrich(
                read, client, limits, slots, settings.enrich_max_per_feed, job.source.url
            )
        outcome = (
            await loop.run_in_executor(worker, _guarded, collector, job, _save, read)
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
    """A fresh answer waiting to be stored."""

    fresh: Fresh
    known: frozenset[str]  # URLs of drafts already stored: never enriched again


def _guarded(
    collector: Collector, job: _Job, step: Callable[[Collector, _Job, Any], R], value: Any
) -> R | FeedOutcome:
    """Run one step of a feed's collection; a failure is recorded, never raised."""
    try:
        return step(collector, job, value)
    except FeedError as exc:
        return _fail(collector, job, exc)
    except Exception as exc:  # one feed's surprise must not stop the others
        log.exception("collecting feed %s failed", job.source.name)
        return _fail(collector, job, FeedError(f"unexpected {type(exc).__name__}: {exc}"))


def _read(collector: Collector, job: _Job, result: Fetched | FeedError) -> _Read | FeedOutcome:
    """Decide on a fetched feed; an unchanged (or unreadable) feed is settled here."""
    if isinstance(result, FeedError):
        return _fail(collector, job, result)
    decided = decide.settle(job.state, result, collector.clock(), collector.settings.interval)
    if isinstance(decided, Settled):
        return _apply(collector, decided)
    known = collector.articles.known_urls([draft.url for draft in decided.drafts])
    return _Read(decided, known)


def _save(collector: Collector, job: _Job, read: _Read) -> FeedOutcome:
    now = collector.clock()
    new = collector.articles.add(job.feed_id, decide.to_store(read.fresh), now)
    return _apply(collector, decide.stored(job.state, read.fresh, new, now))


def _apply(collector: Collector, settled: Settled) -> FeedOutcome:
    collector.feeds.save(settled.state)
    return settled.outcome


async def _enrich(
    read: _Read,
    client: httpx.AsyncClient,
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
    drafts = list(read.fresh.drafts)
    wanted = [
        index
        for index, draft in enumerate(drafts)
        if draft.url not in read.known and needs_enrichment(draft)
    ][:at_most]

    async def page(index: int) -> tuple[int, PageMetadata]:
        url = drafts[index].url
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

    for index, metadata in await asyncio.gather(*(page(i) for i in wanted)):
        drafts[index] = enriched(drafts[index], metadata)
    return replace(read, fresh=replace(read.fresh, drafts=drafts))


def _fail(collector: Collector, job: _Job, error: FeedError) -> FeedOutcome:
    state = collector.feeds.get(job.source.name) or job.state
    failure = decide.failed(state, error, collector.clock(), collector.settings.interval)
    return _apply(collector, failure)


def _run_on_a_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion, also when called from code already inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1, thread_name_prefix="collect-loop") as thread:
        return thread.submit(lambda: asyncio.run(make())).result()
