"""The score that orders stories in the inbox and the auto-draft, in parts the editor can read.

    score = weight × (freshness + coverage) × clicks

- freshness: 1 for a story published now, falling linearly to 0 at the end of the period
  (`PERIOD`, a week: the digest's rhythm); a story from the future counts as now;
- coverage: `COVERAGE_PER_SOURCE` for each source beyond the first that tells the story, at
  most `MAX_COVERAGE` (a story everybody covers matters more, but cannot bury fresh news);
- weight: the highest `[[feeds]] weight` among the story's sources (1 neutral, 0 never first);
- clicks: how readers clicked that feed's and that section's stories in sent issues,
  relative to the average, each clamped to [`MIN_CLICKS`, `MAX_CLICKS`] so no section can
  starve and none can take over; 1 when nothing was measured yet.

Pure: the caller gives the time, the feeds' weights and the click rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PERIOD = timedelta(days=7)
COVERAGE_PER_SOURCE = 0.25
MAX_COVERAGE = 0.75
MIN_CLICKS = 0.8
MAX_CLICKS = 1.25


@dataclass(frozen=True)
class ClickRates:
    """Clicks per delivered copy of sent issues, by feed name and by section (0..1 each)."""

    feeds: Mapping[str, float] = field(default_factory=dict)
    sections: Mapping[str, float] = field(default_factory=dict)


NO_CLICKS = ClickRates()


@dataclass(frozen=True)
class Score:
    """A story's score and its parts, to show the editor why."""

    freshness: float
    coverage: float
    weight: float
    clicks: float
    age_hours: float
    sources: int

    @property
    def total(self) -> float:
        return round(self.weight * (self.freshness + self.coverage) * self.clicks, 4)

    def to_json(self) -> dict[str, float]:
        return {
            "total": self.total,
            "freshness": round(self.freshness, 4),
            "coverage": round(self.coverage, 4),
            "weight": self.weight,
            "clicks": round(self.clicks, 4),
            "age_hours": round(self.age_hours, 1),
            "sources": self.sources,
        }


def score(
    *,
    published: datetime,
    now: datetime,
    feeds: tuple[str, ...],
    section: str | None,
    weights: Mapping[str, float],
    clicks: ClickRates = NO_CLICKS,
) -> Score:
    """The score of a story first published at `published`, told by `feeds` (distinct names)."""
    age = max(now - published, timedelta(0))
    freshness = max(0.0, 1.0 - age / PERIOD)
    coverage = min(MAX_COVERAGE, COVERAGE_PER_SOURCE * max(0, len(feeds) - 1))
    weight = max((weights.get(feed, 1.0) for feed in feeds), default=1.0)
    factor = max(
        (_relative(clicks.feeds, feed) for feed in feeds if feed in clicks.feeds), default=1.0
    )
    if section is not None and section in clicks.sections:
        factor *= _relative(clicks.sections, section)
    return Score(
        freshness=freshness,
        coverage=coverage,
        weight=weight,
        clicks=_clamp(factor),
        age_hours=age.total_seconds() / 3600,
        sources=len(feeds),
    )


def _relative(rates: Mapping[str, float], key: str) -> float:
    """`key`'s rate against the average of `rates`, clamped."""
    average = sum(rates.values()) / len(rates)
    if average <= 0:
        return 1.0
    return _clamp(max(0.0, rates[key]) / average)


def _clamp(value: float) -> float:
    return min(MAX_CLICKS, max(MIN_CLICKS, value))
