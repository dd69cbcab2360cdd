"""The digest's "Au sommaire": the first titles of the issue, in both the HTML and text parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Shown from this many articles on (fewer are read at a glance), listing at most LISTED titles.
SHOWN_FROM = 3
LISTED = 6


@dataclass(frozen=True)
class Contents:
    titles: tuple[str, ...]
    more: int  # articles not listed ("et N autres articles"); 0 when every title is


def table_of_contents(titles: Sequence[str]) -> Contents | None:
    """The issue's titles in order, cut at LISTED; None under SHOWN_FROM articles."""
    if len(titles) < SHOWN_FROM:
        return None
    return Contents(tuple(titles[:LISTED]), max(0, len(titles) - LISTED))
