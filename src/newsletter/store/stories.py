"""What is decided about stories: an editor dismisses one (all its articles at once); its
funding facts, as an editor corrected them or as a draft froze them, are kept on its lead
article (articles read them back: `Article.funding`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, select

from newsletter.domain.funding import FundingFacts
from newsletter.store.articles import CATEGORY_SEPARATOR
from newsletter.store.dialect import write_lock
from newsletter.store.tables import articles, story_funding


class StoryRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def dismiss(self, article_ids: Sequence[int], dismissed: bool = True) -> int:
        """Dismiss (or restore) these articles together; return how many exist."""
        if not article_ids:
            return 0
        with write_lock(self.engine), self.engine.begin() as connection:
            result = connection.execute(
                articles.update()
                .where(articles.c.id.in_(list(article_ids)))
                .values(dismissed=dismissed)
            )
        return int(result.rowcount)

    def set_funding(
        self, article_id: int, facts: FundingFacts | None, at: datetime, by: str | None = None
    ) -> bool:
        """Keep the facts of the story led by `article_id` (None: it is no round), as an
        editor `by` corrected them, or as the draft froze them (`by` None). False: no such
        article."""
        values = {
            "article_id": article_id,
            "is_funding": facts is not None,
            "company": facts.company if facts else "",
            "amount": facts.amount if facts else None,
            "currency": facts.currency if facts else None,
            "round": facts.round if facts else None,
            "investors": CATEGORY_SEPARATOR.join(facts.investors) if facts else "",
            "corrected_at": at,
            "corrected_by": by,
        }
        with write_lock(self.engine), self.engine.begin() as connection:
            found = connection.execute(select(articles.c.id).where(articles.c.id == article_id))
            if found.first() is None:
                return False
            connection.execute(
                delete(story_funding).where(story_funding.c.article_id == article_id)
            )
            connection.execute(story_funding.insert().values(**values))
        return True
