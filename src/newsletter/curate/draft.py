"""Pure issue logic: which stories a draft takes and how they are grouped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.curate.stories import Story
from newsletter.domain.model import Article


@dataclass(frozen=True)
class DraftPlan:
    """The stories a draft takes, in order, each by its lead article with its section; or why
    there is none."""

    picks: tuple[tuple[Article, str | None], ...]
    reason: str | None = None
    stories: tuple[Story, ...] = ()


def plan_draft(
    ranked: Sequence[Story],
    max_articles: int,
    min_articles: int,
    section_order: Sequence[str] = (),
) -> DraftPlan:
    """Take the `max_articles` best stories (`ranked` is best first), each once, by its lead
    article, grouped by section.

    Sections come in `section_order` (the configured order), then any other section by first
    appearance; stories without a section come last. Within a section the best story comes
    first. Fewer than `min_articles` stories: no draft.
    """
    chosen = list(ranked[:max_articles])
    if len(chosen) < max(min_articles, 1):
        return DraftPlan(
            picks=(),
            reason=f"only {len(chosen)} new story(ies); at least {max(min_articles, 1)} needed",
        )
    rank = {section: i for i, section in enumerate(section_order)}
    first_seen: dict[str | None, int] = {}
    for story in chosen:
        first_seen.setdefault(story.section, len(first_seen))

    def section_key(section: str | None) -> tuple[int, int]:
        if section is None:
            return (2, 0)
        if section in rank:
            return (0, rank[section])
        return (1, first_seen[section])

    ordered = sorted(enumerate(chosen), key=lambda pair: (section_key(pair[1].section), pair[0]))
    stories = tuple(story for _, story in ordered)
    return DraftPlan(picks=tuple((s.lead, s.section) for s in stories), stories=stories)
