"""Pure issue logic: which articles a draft takes and how they are grouped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.domain.model import Article


@dataclass(frozen=True)
class DraftPlan:
    """The articles a draft takes, in order, each with its section; or why there is none."""

    picks: tuple[tuple[Article, str | None], ...]
    reason: str | None = None


def plan_draft(
    candidates: Sequence[Article],
    max_articles: int,
    min_articles: int,
    section_order: Sequence[str] = (),
) -> DraftPlan:
    """Take the newest `max_articles` candidates, grouped by section.

    Sections come in `section_order` (the order of the feeds in the configuration), then any
    other section by first appearance; articles without a section come last. Within a section
    the newest article comes first. Fewer than `min_articles` candidates: no draft.
    """
    chosen = sorted(candidates, key=_recency, reverse=True)[:max_articles]
    if len(chosen) < max(min_articles, 1):
        return DraftPlan(
            picks=(),
            reason=f"only {len(chosen)} new article(s); at least {max(min_articles, 1)} needed",
        )
    rank = {section: i for i, section in enumerate(section_order)}
    first_seen: dict[str | None, int] = {}
    for article in chosen:
        first_seen.setdefault(article.section, len(first_seen))

    def section_key(section: str | None) -> tuple[int, int, int]:
        if section is None:
            return (2, 0, 0)
        if section in rank:
            return (0, rank[section], 0)
        return (1, first_seen[section], 0)

    ordered = sorted(chosen, key=lambda a: (section_key(a.section), -_recency(a)[0]))
    return DraftPlan(picks=tuple((article, article.section) for article in ordered))


def _recency(article: Article) -> tuple[float, int]:
    when = article.published_at or article.collected_at
    return (when.timestamp(), article.id)
