"""Labelled French corpora of feeds (items, story groups, funding facts) read into articles,
and the measures the story and funding tests print: pairwise precision/recall, fact accuracy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

from newsletter.collect.normalise import normalise
from newsletter.collect.parse import parse
from newsletter.domain.french import fold
from newsletter.domain.funding import FundingFacts
from newsletter.domain.model import Article

COLLECTED = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    articles: list[Article]
    groups: dict[str, int]  # guid -> labelled story
    funding: dict[str, dict[str, object]]  # guid -> labelled facts


def load(folder: Path) -> Corpus:
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    articles: list[Article] = []
    for path in sorted(folder.glob("*.xml")):
        feed = parse(path.read_bytes(), path.as_uri())
        for entry in feed.entries:
            draft = normalise(entry, path.stem, "https://example.org/")
            assert draft is not None
            articles.append(
                Article(
                    id=len(articles) + 1,
                    feed_name=draft.feed_name,
                    guid=draft.guid,
                    url=draft.url,
                    title=draft.title,
                    summary=draft.summary,
                    content_html=draft.content_html,
                    image_url=draft.image_url,
                    author=draft.author,
                    published_at=draft.published_at,
                    collected_at=COLLECTED,
                    categories=draft.categories,
                    source=feed.title or path.stem,
                )
            )
    groups = {guid: n for n, group in enumerate(labels["stories"]) for guid in group}
    return Corpus(articles, groups, labels["funding"])


def pairwise(found: list[list[Article]], groups: dict[str, int]) -> tuple[float, float]:
    """Precision and recall of the pairs of articles put in one story."""
    predicted = {frozenset((a.guid, b.guid)) for story in found for a, b in combinations(story, 2)}
    by_label: dict[int, list[str]] = {}
    for guid, label in groups.items():
        by_label.setdefault(label, []).append(guid)
    expected = {
        frozenset(pair) for members in by_label.values() for pair in combinations(members, 2)
    }
    right = len(predicted & expected)
    precision = right / len(predicted) if predicted else 1.0
    recall = right / len(expected) if expected else 1.0
    return precision, recall


FIELDS = ("company", "amount", "currency", "round", "investors")


def same_field(name: str, got: FundingFacts | None, expected: dict[str, object] | None) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    value = got.to_json()[name]
    wanted = expected[name]
    if name == "investors":
        return sorted(fold(str(v)) for v in value) == sorted(fold(str(v)) for v in wanted)  # type: ignore[attr-defined]
    if isinstance(wanted, str) and isinstance(value, str):
        return fold(value) == fold(wanted)
    return value == wanted
