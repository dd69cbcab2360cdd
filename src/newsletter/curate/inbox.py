"""The inbox as stories: the articles no issue uses yet and no editor dismissed, grouped and
ranked (curate/stories.py, curate/ranking.py); what an editor does to a story."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newsletter.curate.stories import Curation, Story, published, stories
from newsletter.domain.errors import UsageError
from newsletter.domain.funding import FundingFacts
from newsletter.store.articles import ArticleRepository
from newsletter.store.stories import StoryRepository

# The newest articles of the inbox that are grouped into stories (weeks of a busy desk).
INBOX_ARTICLES = 5000
# The newest articles already in an issue: another source of their news is not a new story.
USED_ARTICLES = 500


@dataclass(frozen=True)
class InboxFilter:
    """What an editor narrows the inbox to. `text` is searched by the store (see `inbox`); a
    story is kept when it is of the section and one of its articles of the feed and dates."""

    feed: str | None = None
    section: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def admits(self, story: Story) -> bool:
        if self.section and story.section != self.section:
            return False
        return any(
            (not self.feed or article.feed_name == self.feed)
            and (not self.since or published(article) >= self.since)
            and (not self.until or published(article) < self.until)
            for article in story.articles
        )


def ranked(*, articles: ArticleRepository, now: datetime, curation: Curation) -> list[Story]:
    """The inbox's stories, best first. A story one of whose articles is in an issue already
    (picked, or drafted) is not in the inbox: its other sources wait unused, and come back if
    that article leaves the issue."""
    used = articles.in_issues(limit=USED_ARTICLES)
    taken = {article.id for article in used}
    grouped = stories(articles.unused(limit=INBOX_ARTICLES) + used, now=now, curation=curation)
    return [story for story in grouped if not any(a.id in taken for a in story.articles)]


def narrowed(
    found: Sequence[Story], articles: ArticleRepository, q: str | None, limit: int | None
) -> list[Story]:
    """Of the `ranked` stories, with `q` those of which an article's title or summary contains
    it (accents and case aside); at most `limit`. A new list: `found` is left as it is."""
    if q and q.strip():
        matched = articles.matching(q, INBOX_ARTICLES)
        found = [story for story in found if any(a.id in matched for a in story.articles)]
    return list(found if limit is None else found[: max(limit, 0)])


def dismiss(repository: StoryRepository, article_ids: Sequence[int], restore: bool = False) -> int:
    """Dismiss a story (all its articles, in one action), or restore it; how many articles."""
    changed = repository.dismiss(article_ids, dismissed=not restore)
    if not changed:
        raise UsageError("no such story: none of its articles exists")
    return changed


def correct_funding(
    repository: StoryRepository,
    article_id: int,
    facts: FundingFacts | None,
    *,
    now: datetime,
    by: str | None,
) -> None:
    """An editor's funding facts for the story led by `article_id` (None: it is no round)."""
    if facts is not None and not facts.company.strip():
        raise UsageError("a funding round needs the company's name")
    if facts is not None and facts.amount is not None and facts.amount < 0:
        raise UsageError("a funding amount cannot be negative")
    if not repository.set_funding(article_id, facts, at=now, by=by):
        raise UsageError(f"article {article_id} does not exist")
