"""Readers' sections and the segments of a send (pure).

A reader chooses sections (none chosen: every section). At send time the audience is frozen
with each reader's choice as a segment key; the issue is rendered once per distinct key in use,
holding the intro, the items of those sections and the items that have no section. A segment
whose copy would hold no item is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from newsletter.domain.errors import UsageError
from newsletter.domain.model import Issue, IssueItem

EVERYTHING = ""  # the segment key of readers who take every section


def clean_sections(chosen: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """The chosen sections that exist, in the newsletter's order, each once (hostile input
    welcome: unknown names and duplicates are dropped)."""
    wanted = {name.strip() for name in chosen}
    return tuple(name for name in known if name in wanted)


def ticked_sections(ticked: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """A reader's ticked boxes (the preferences page, the sign-up form) as stored: the known
    ones (`clean_sections`); all of them or none: () (every section, those added later too)."""
    sections = clean_sections(ticked, known)
    return () if len(sections) == len(known) else sections


def parse_sections_option(text: str, known: Sequence[str]) -> tuple[str, ...]:
    """`--sections "A,B"` or a CSV cell: names separated by commas; an unknown name is a
    UsageError naming it and the known ones."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        choices = ", ".join(known) or "none configured"
        raise UsageError(f"unknown section {unknown[0]!r} (sections: {choices})")
    return clean_sections(names, known)


def segment_key(sections: Iterable[str]) -> str:
    """The stored form of a choice: a JSON list, sorted; "" for every section."""
    unique = sorted(set(sections))
    return json.dumps(unique, ensure_ascii=False) if unique else EVERYTHING


def segment_sections(key: str | None) -> tuple[str, ...]:
    """The sections named by a stored key; () (every section) for "" or anything unreadable."""
    if not key:
        return ()
    try:
        value = json.loads(key)
    except ValueError:
        return ()
    if not isinstance(value, list):
        return ()
    return tuple(name for name in value if isinstance(name, str))


def item_section(item: IssueItem) -> str | None:
    """The section an item is shown under (the editor's choice, else the article's)."""
    return item.section or item.article.section


def for_segment(issue: Issue, key: str) -> Issue:
    """The issue as the readers of segment `key` get it: the intro, the items of their
    sections and the items without a section."""
    chosen = set(segment_sections(key))
    if not chosen:
        return issue
    items = tuple(
        item for item in issue.items if item_section(item) is None or item_section(item) in chosen
    )
    return replace(issue, items=items)
