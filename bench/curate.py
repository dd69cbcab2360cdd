"""Benchmark: the inbox's articles grouped into stories and ranked, vs reading them only.

`stories()` (curate/stories.py) groups, picks leads, finds sections, reads funding facts and
scores. The baseline does the part no inbox can skip, the same reading of every article's
words (the same folding, words and sums) followed by the plain newest-first sort the inbox
used before stories. Both run in the same process on the same articles. Then the inbox as the
desk reads it (`runtime/curation.inbox_stories`, the same articles in a SQLite database): a
read after a change (grouping again) against a read with nothing changed (the per-process
cache, behind the store's one-query fingerprint and the click rates). Targets:
  - grouping + ranking costs at most MAX_SECONDS_PER_1000 per 1,000 articles ("well under a
    second");
  - and at most MAX_RATIO times the baseline (the grouping stays near-linear: candidate pairs
    come from an inverted index of distinctive words, never all pairs);
  - a cached inbox read at least MIN_CACHE_SPEEDUP times faster than an uncached one.

The articles: stories of the labelled French corpora (tests/corpus/fr-stories and, when
present, ../shared/corpus/fr-startups), each story copied with a new company name, new sums,
new words and a new time in the week, told by its 1-3 sources as labelled.

    .venv/bin/python bench/curate.py [--articles 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from targets import Targets  # noqa: E402
from tests.story_corpus import load  # noqa: E402

from newsletter.curate.stories import Curation, stories  # noqa: E402
from newsletter.domain import french  # noqa: E402
from newsletter.domain.clock import FrozenClock  # noqa: E402
from newsletter.domain.french import amounts, fold, words  # noqa: E402
from newsletter.domain.model import Article, ArticleDraft  # noqa: E402
from newsletter.runtime import curation, wiring  # noqa: E402
from newsletter.runtime.config import from_mapping  # noqa: E402

MAX_SECONDS_PER_1000 = 0.5
MAX_RATIO = 6.0
MIN_CACHE_SPEEDUP = 20.0
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SYLLABLES = ("ka", "lo", "vi", "ne", "ta", "ri", "so", "mu", "pe", "xa", "do", "li", "qu", "zen")
FILLER = re.findall(
    r"\w+",
    "plateforme logiciel clients industriels croissance europe recrutement ingénieurs usine "
    "données énergie santé mobilité logistique assurance paiement agriculture robotique "
    "cybersécurité climat formation commerce immobilier tourisme spatial batterie hydrogène",
)


def corpus_groups() -> list[list[Article]]:
    folders = [ROOT / "tests" / "corpus" / "fr-stories"]
    shared = ROOT.parent / "shared" / "corpus" / "fr-startups"
    if shared.exists():
        folders.append(shared)
    groups: list[list[Article]] = []
    for folder in folders:
        labelled = load(folder)
        by_label: dict[int, list[Article]] = {}
        for article in labelled.articles:
            by_label.setdefault(labelled.groups[article.guid], []).append(article)
        groups.extend(by_label.values())
    return groups


def synthetic(count: int, seed: int = 7) -> list[Article]:
    """`count` articles: labelled stories copied with a new company name, sum and time, and
    most of their words swapped for others (the same swap for every source of a story, so a
    story's sources stay alike and two copies of one template do not)."""
    rng = random.Random(seed)
    groups = corpus_groups()
    vocabulary = [
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(20_000)
    ]
    made: list[Article] = []
    while len(made) < count:
        group = rng.choice(groups)
        made.extend(_copy(group, rng, vocabulary, first_id=len(made) + 1)[: count - len(made)])
    return made


def _copy(
    group: list[Article], rng: random.Random, vocabulary: list[str], first_id: int
) -> list[Article]:
    """One labelled story told again: a new name, sum, time and (mostly) new words."""
    name = "".join(rng.choice(SYLLABLES) for _ in range(5)).capitalize()
    millions = str(rng.randint(1, 400))
    when = NOW - timedelta(minutes=rng.randint(0, 7 * 24 * 60))
    extra = " ".join(rng.sample(FILLER, 3))
    first = group[0].published_at or NOW
    swap: dict[str, str] = {}

    def swapped(match: re.Match[str]) -> str:
        word = match.group(0)
        if word not in swap:  # names always change, other words mostly
            keep = word.islower() and rng.random() < 0.2
            new = rng.choice(vocabulary)
            swap[word] = word if keep else new.capitalize() if word[0].isupper() else new
        return swap[word]

    def respell(text: str) -> str:
        text = re.sub(r"\b\w{3,}\b", swapped, text)
        text = re.sub(r"\b[A-ZÉ]\w+\b", name, text, count=1)
        return re.sub(r"\b\d+(?:,\d+)?\b", millions, text, count=1)

    return [
        replace(
            article,
            id=first_id + n,
            guid=f"bench-{first_id + n}",
            url=f"https://{article.feed_name}.example.org/{first_id + n}",
            title=respell(article.title),
            summary=f"{respell(article.summary)} {extra}",
            published_at=when + ((article.published_at or first) - first),
        )
        for n, article in enumerate(group)
    ]


def baseline(articles: list[Article]) -> list[Article]:
    """Every article's words read as stories() reads them, then newest first."""
    for article in articles:
        words(article.title)
        words(article.summary)
        amounts(article.title)
        amounts(article.summary)
    return sorted(articles, key=lambda a: a.published_at or a.collected_at, reverse=True)


def project(articles: list[Article]) -> object:
    curation = Curation(
        rules=(("Financement", ("levée", "série A")), ("Santé", ("medtech", "santé"))),
        weights={"maddyness": 1.2, "frenchweb": 1.0},
    )
    return stories(articles, now=NOW, curation=curation)


def best_of(rounds: int, work: Callable[[], object]) -> float:
    """The best time of `rounds` runs, each from cold caches (folded texts, word stems)."""
    times = []
    for _ in range(rounds):
        fold.cache_clear()
        french._STEMS.clear()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def inbox_reads(articles: list[Article], rounds: int) -> tuple[float, float]:
    """The best times of an uncached and of a cached `inbox_stories` over `articles` stored."""
    with tempfile.TemporaryDirectory() as folder:
        names = sorted({article.feed_name for article in articles})
        raw = {
            "database": {"url": f"sqlite:///{folder}/bench.db"},
            "feeds": [{"name": name, "url": f"https://{name}.example.org/feed"} for name in names],
        }
        config = from_mapping(raw, Path(folder) / "config.toml", {"NEWSLETTER_SECRET_KEY": "b"})
        services = wiring.build(config, clock=FrozenClock(NOW))  # one minute: one key
        try:
            services.store.migrate()
            services.store.feeds.sync(config.feed_sources())
            for name in names:
                drafts = [_draft(a) for a in articles if a.feed_name == name]
                services.store.articles.add(services.store.feeds.id_of(name), drafts, NOW)

            def uncached() -> None:
                vars(services).pop("inbox", None)  # a new cache: as after a change
                curation.inbox_stories(services)

            cold = best_of(rounds, uncached)
            warm = best_of(rounds, lambda: curation.inbox_stories(services))
        finally:
            services.close()
    return cold, warm


def _draft(article: Article) -> ArticleDraft:
    fields = {name: getattr(article, name) for name in ArticleDraft.__dataclass_fields__}
    return ArticleDraft(**fields)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    articles = synthetic(args.articles)
    found = project(articles)
    assert isinstance(found, list)
    sizes = [len(story.articles) for story in found]
    print(
        f"{len(articles)} articles -> {len(found)} stories "
        f"(median {statistics.median(sizes)} article(s), largest {max(sizes)})"
    )
    base = best_of(args.rounds, lambda: baseline(articles))
    ours = best_of(args.rounds, lambda: project(articles))
    per_1000 = ours / len(articles) * 1000
    print(f"baseline (read words + newest-first sort): {base:.3f} s")
    print(f"stories (group + lead + section + funding + score): {ours:.3f} s")
    print(f"ratio: {ours / base:.2f}x the baseline; {per_1000:.3f} s per 1,000 articles")
    cold, warm = inbox_reads(articles, args.rounds)
    print(
        f"inbox read ({len(articles)} articles stored): uncached {cold:.3f} s, "
        f"cached {warm * 1000:.1f} ms, ratio {cold / warm:.0f}x"
    )
    targets = Targets()
    targets.check(
        f"grouping + ranking <= {MAX_SECONDS_PER_1000} s per 1,000 articles",
        f"{per_1000:.3f} s",
        per_1000 <= MAX_SECONDS_PER_1000,
    )
    targets.check(
        f"grouping + ranking <= {MAX_RATIO}x the baseline",
        f"{ours / base:.2f}x",
        ours / base <= MAX_RATIO,
    )
    targets.check(
        f"a cached inbox read >= {MIN_CACHE_SPEEDUP:.0f}x faster than an uncached one",
        f"{cold / warm:.0f}x",
        cold / warm >= MIN_CACHE_SPEEDUP,
    )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
