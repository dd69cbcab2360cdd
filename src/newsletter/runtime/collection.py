"""Collection as the command line and the scheduler call it: the wiring's dependencies, narrowed.

newsletter.collect.pipeline takes the feed and article repositories, the clock, the sources and
the limits; this is the one place that picks them out of the Services.
"""

from __future__ import annotations

from datetime import timedelta

from newsletter.collect.decide import CollectReport
from newsletter.collect.fetch import FetchLimits
from newsletter.collect.pipeline import Collector, CollectSettings
from newsletter.collect.pipeline import collect as collect_sources
from newsletter.domain.progress import NO_PROGRESS, Progress
from newsletter.domain.settings import CollectSection
from newsletter.runtime.wiring import Services


def collect(
    services: Services, only: str | None = None, progress: Progress = NO_PROGRESS
) -> CollectReport:
    """Fetch every due configured feed once (or only the feed named `only`, due or not)."""
    config = services.config
    collector = Collector(
        feeds=services.store.feeds,
        articles=services.store.articles,
        clock=services.clock,
        settings=collect_settings(config.settings.collect),
    )
    return collect_sources(
        collector, config.feed_sources(), only, progress, sources_from=str(config.path)
    )


def collect_settings(section: CollectSection) -> CollectSettings:
    """The `[collect]` section of the configuration as the pipeline's limits."""
    return CollectSettings(
        limits=FetchLimits(
            timeout=section.timeout_seconds,
            max_bytes=section.max_bytes,
            max_redirects=section.max_redirects,
        ),
        concurrency=section.concurrency,
        interval=timedelta(minutes=section.every_minutes),
        enrich=section.enrich,
        enrich_max_per_feed=section.enrich_max_per_feed,
    )
