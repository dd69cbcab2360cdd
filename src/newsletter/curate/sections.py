"""A story's section: its feed's section, else the first `[[sections]]` rule whose keywords
appear in its titles, summaries or categories (accents, case and a plural s/x do not count).
Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from newsletter.domain.french import fold
from newsletter.domain.model import Article

Rule = tuple[str, tuple[str, ...]]  # a section's name and its keywords


def section_of(articles: Sequence[Article], rules: Sequence[Rule]) -> str | None:
    """The section of the story told by `articles` (lead first)."""
    for article in articles:
        if article.section:
            return article.section
    if not rules:
        return None
    text = fold(
        " \n ".join(f"{a.title} \n {a.summary} \n {' , '.join(a.categories)}" for a in articles)
    )
    for name, keywords in rules:
        if any(_keyword(keyword).search(text) for keyword in keywords):
            return name
    return None


@lru_cache(maxsize=512)
def _keyword(keyword: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in fold(keyword).split()]
    return re.compile(r"(?<![a-z0-9])" + r"\s+".join(words) + r"(?:s|x)?(?![a-z0-9])")
