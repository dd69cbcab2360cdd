"""Issue results as `issue status --json` and the desk give them: the ledger's counts, the
merged clicks and the provider events (store), made into figures (domain.results)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from newsletter.domain.delivery import DeliveryCounts
from newsletter.domain.learning import click_rates
from newsletter.domain.results import Figures, figures
from newsletter.runtime.wiring import Services
from newsletter.store.clicks import IssueResults


def issue_figures(services: Services, counts: DeliveryCounts) -> tuple[Figures, IssueResults]:
    found = services.store.clicks.results(counts.id)
    return (
        figures(
            sent=counts.sent,
            failed=counts.failed,
            events=found.events,
            clicks=found.clicks,
            unique_clicks=found.unique_clicks,
            unsubscribed_by_link=found.unsubscribed_by_link,
            tracked=services.config.settings.links.track_clicks,
        ),
        found,
    )


def issue_results(services: Services, counts: DeliveryCounts) -> dict[str, Any]:
    """The results keys of `issue status --json` (beside the ledger's counts)."""
    shown, found = issue_figures(services, counts)
    counted = ("opens", "clicks", "unique_clicks", "unsubscribed", "bounced", "complained")
    return {
        **{key: getattr(shown, key) for key in counted},
        "events": shown.has_events,
        "rates": asdict(shown.rates),
        "links": [
            {key: getattr(link, key) for key in ("url", "title", "clicks", "unique_clicks")}
            for link in found.links
        ],
    }


LEARNING_PERIOD = timedelta(days=90)


def feed_click_rates(services: Services, now: datetime) -> dict[str, float]:
    """Smoothed click rate per feed over the issues of the last 90 days (for the ranking:
    `newsletter.curate.ranking` turns it into a bounded score factor)."""
    return click_rates(services.store.clicks.per_source(now - LEARNING_PERIOD))


def section_click_rates(services: Services, now: datetime) -> dict[str, float]:
    """Smoothed click rate per section over the issues of the last 90 days."""
    return click_rates(services.store.clicks.per_section(now - LEARNING_PERIOD))
