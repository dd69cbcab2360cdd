"""Stories: the articles of several sources about the same news, grouped. Pure.

Two articles are about the same news when they were published within `WINDOW` of each other
and their words say so (no model, nothing downloaded):

- lexical similarity: cosine of TF-IDF vectors over the folded words of the title (counted
  twice) and the summary (elisions, accents, case and plurals do not count; see domain/french);
- entities: proper names both titles write (a word always capitalised in the batch:
  company names, places, funds) and the same sum of money (`12 millions d'euros` = `12 M€`).

`linked` holds the rule: a similarity of at least `SAME_WORDS`, or `SAME_SUM_WORDS` with the
same sum, or `SAME_ENTITY_WORDS` when the titles share a name, or a shared name and the same
sum. Articles linked to each other,
directly or through a third, form one story. A company's funding round and, days later, its
new office are two stories: outside the window, or too few words in common beyond the name.

Measured on the labelled corpus (tests/test_stories.py prints it): pairwise precision and
recall of the grouping.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from newsletter.curate.ranking import NO_CLICKS, ClickRates, Score, score
from newsletter.curate.sections import Rule, section_of
from newsletter.domain.french import STOP_WORDS, amounts, fold, words
from newsletter.domain.funding import FundingFacts, merge
from newsletter.domain.model import Article

WINDOW = timedelta(days=3)
SAME_WORDS = 0.42
SAME_SUM_WORDS = 0.3
SAME_ENTITY_WORDS = 0.22
SAME_ENTITY_AND_SUM = 0.05
# Title words in more than this share of the articles (and more than 20) say nothing of
# which story an article belongs to: they make no candidate pair.
COMMON_SHARE = 0.01
_NAME = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w-]+")
_LOWER = re.compile(r"\b[a-zà-ÿ][\w-]+")


@dataclass(frozen=True)
class _Features:
    when: float
    vector: dict[str, float]
    names: frozenset[str]
    sums: frozenset[tuple[int, str]]
    keys: frozenset[str]  # what candidate pairs must share: a title word, a name or a sum


def group(articles: Sequence[Article], window: timedelta = WINDOW) -> list[list[Article]]:
    """`articles` partitioned into stories; each story's articles oldest first, stories in the
    order of their first article."""
    if not articles:
        return []
    features = _features(articles)
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _candidate_pairs(features, window.total_seconds()):
        if linked(features[i], features[j], _dot(features[i].vector, features[j].vector)):
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    stories: dict[int, list[int]] = defaultdict(list)
    for index in sorted(range(len(articles)), key=lambda k: (features[k].when, articles[k].id)):
        stories[root(index)].append(index)
    ordered = sorted(stories.values(), key=lambda members: (features[members[0]].when, members[0]))
    return [[articles[k] for k in members] for members in ordered]


def linked(a: _Features, b: _Features, similarity: float) -> bool:
    """Whether two articles (already within the window) tell the same news."""
    if similarity >= SAME_WORDS:
        return True
    if a.sums & b.sums and similarity >= SAME_SUM_WORDS:
        return True
    if not a.names & b.names:
        return False
    if similarity >= SAME_ENTITY_WORDS:
        return True
    return bool(a.sums & b.sums) and similarity >= SAME_ENTITY_AND_SUM


def published(article: Article) -> datetime:
    """When an article counts as published: its date, else when it was collected."""
    return article.published_at or article.collected_at


def _features(articles: Sequence[Article]) -> list[_Features]:
    titles = [words(article.title) for article in articles]
    counted = [
        _counts(title, article.summary) for title, article in zip(titles, articles, strict=True)
    ]
    document_frequency: dict[str, int] = defaultdict(int)
    for counts in counted:
        for word in counts:
            document_frequency[word] += 1
    total = len(articles)
    weight = {w: math.log(1 + total / df) for w, df in document_frequency.items()}  # idf
    names = _names(articles)
    result = []
    for article, title, counts, found in zip(articles, titles, counted, names, strict=True):
        sums = frozenset(amounts(article.title) + amounts(article.summary))
        vector = {w: c * weight[w] for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        result.append(
            _Features(
                when=published(article).timestamp(),
                vector={w: v / norm for w, v in vector.items()},
                names=found,
                sums=sums,
                keys=frozenset(title)
                | {f"\x00{n}" for n in found}
                | {f"\x01{value} {code}" for value, code in sums},
            )
        )
    return result


def _counts(title: list[str], summary: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for word in title:
        counts[word] += 2
    for word in words(summary):
        counts[word] += 1
    return counts


def _names(articles: Sequence[Article]) -> list[frozenset[str]]:
    """The proper names of each article's title: capitalised words the batch never writes in
    lower case (a place named only in a summary does not make two news one), of three letters
    or more (not IA, AI)."""
    lower: set[str] = set()
    for article in articles:
        lower.update(_LOWER.findall(article.title))
        lower.update(_LOWER.findall(article.summary))
    folded_lower = {fold(word) for word in lower}
    return [
        frozenset(
            name
            for name in map(fold, _NAME.findall(article.title))
            if len(name) >= 3 and name not in folded_lower and name not in STOP_WORDS
        )
        for article in articles
    ]


def _candidate_pairs(features: Sequence[_Features], window: float) -> set[tuple[int, int]]:
    """Pairs within the window whose titles share two distinctive words, or a word and a name
    or a sum: the only ones compared (articles telling one news name its subject in their
    titles; comparing every pair would be quadratic)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for index, feature in enumerate(features):
        for key in feature.keys:
            postings[key].append(index)
    common = max(20, int(len(features) * COMMON_SHARE))
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for members in postings.values():
        if len(members) < 2 or len(members) > common:
            continue
        members.sort(key=lambda k: features[k].when)
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if features[j].when - features[i].when > window:
                    break
                shared[(i, j) if i < j else (j, i)] += 1
    return {pair for pair, count in shared.items() if count >= 2}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(a[word] * b[word] for word in a.keys() & b.keys())


@dataclass(frozen=True)
class Story:
    """One news item: its lead article (the best-written source), the others that tell it,
    its section, its funding facts (when it announces a round) and its score."""

    lead: Article
    others: tuple[Article, ...]
    section: str | None
    funding: FundingFacts | None
    score: Score

    @property
    def id(self) -> int:
        """The story's id: its oldest article's id (stable while new articles join it)."""
        return min(article.id for article in self.articles)

    @property
    def articles(self) -> tuple[Article, ...]:
        return (self.lead, *self.others)

    def to_json(self) -> dict[str, object]:
        lead = self.lead
        return {
            "id": self.id,
            "title": lead.title,
            "url": lead.url,
            "feed": lead.feed_name,
            "source": lead.source_name,
            "published_at": _iso(published(lead)),
            "section": self.section,
            "score": self.score.total,
            "why": self.score.to_json(),
            "sources": [
                {"feed": a.feed_name, "source": a.source_name, "url": a.url, "title": a.title}
                for a in self.articles
            ],
            "articles": [article.id for article in self.articles],
            "funding": self.funding.to_json() if self.funding else None,
        }


@dataclass(frozen=True)
class Curation:
    """What ranking stories reads of the configuration and of past issues."""

    rules: tuple[Rule, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    clicks: ClickRates = NO_CLICKS


def stories(
    articles: Sequence[Article],
    *,
    now: datetime,
    curation: Curation = Curation(),
) -> list[Story]:
    """`articles` grouped into stories, best first (see curate/ranking.py for the score).

    A story's funding facts are those set on one of its articles (by an editor; the newest
    article's setting wins), else the merge of what its articles' words say.
    """
    found = []
    for members in group(articles):
        lead = max(members, key=lambda a: _written(a, curation.weights))
        others = tuple(a for a in members if a is not lead)
        told = (lead, *others)
        section = section_of(told, curation.rules)
        found.append(
            Story(
                lead=lead,
                others=others,
                section=section,
                funding=_funding(told),
                score=score(
                    published=min(published(a) for a in members),
                    now=now,
                    feeds=tuple(dict.fromkeys(a.feed_name for a in told)),
                    section=section,
                    weights=curation.weights,
                    clicks=curation.clicks,
                ),
            )
        )
    found.sort(key=lambda s: (-s.score.total, -published(s.lead).timestamp(), s.id))
    return found


def _written(article: Article, weights: Mapping[str, float]) -> tuple[float, float, int]:
    """How well an article tells its story: its source's weight, then a fuller summary and an
    image, then the earliest."""
    quality = min(len(article.summary), 400) / 400 + (0.25 if article.image_url else 0.0)
    return (weights.get(article.feed_name, 1.0), quality, -article.id)


def _funding(told: Sequence[Article]) -> FundingFacts | None:
    corrected = [a for a in told if a.funding_set]
    if corrected:
        return max(corrected, key=lambda a: a.id).funding
    return merge(a.funding_facts for a in told)


def _iso(when: datetime) -> str:
    return when.isoformat()
