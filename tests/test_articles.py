"""Entries normalised into articles; golden files: a feed in, the expected articles out.

Regenerate the expected files after a deliberate change with
`NEWSLETTER_REGENERATE_GOLDEN=1 python -m pytest tests/test_articles.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsletter.collect.normalise import canonical_url, normalise, published_at, shorten, summarise
from newsletter.collect.parse import parse
from newsletter.domain.links import http_url

GOLDEN = Path(__file__).parent / "golden"
ROOT = Path(__file__).resolve().parent.parent


def _normalised(feed: Path, url: str) -> list[dict[str, Any]]:
    parsed = parse(feed.read_bytes(), url)
    out: list[dict[str, Any]] = []
    for entry in parsed.entries:
        draft = normalise(entry, feed.stem, url)
        if draft is None:
            out.append({"skipped": "no link", "title": entry.get("title")})
            continue
        data = asdict(draft)
        data["published_at"] = draft.published_at.isoformat() if draft.published_at else None
        data["categories"] = list(draft.categories)
        out.append(data)
    return out


GOLDEN_CASES = {
    "atom-relative-french-dates": "https://incubateur.example.org/blog/feed.atom",
    "rss-images-and-boilerplate": "https://blog.example.com/feed/",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_feed_normalises_as_expected(name: str) -> None:
    """Each golden feed's entries normalise to exactly the articles recorded next to it."""
    actual = _normalised(GOLDEN / f"{name}.xml", GOLDEN_CASES[name])
    expected_path = GOLDEN / f"{name}.json"
    if os.environ.get("NEWSLETTER_REGENERATE_GOLDEN"):
        expected_path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))

    assert expected == actual


def test_shipped_sample_feed_normalises_cleanly() -> None:
    """The offline sample: utm parameters gone, images found, no reading-time stub."""
    url = (ROOT / "samples" / "maddynews-sample.xml").as_uri()
    articles = _normalised(ROOT / "samples" / "maddynews-sample.xml", url)

    assert articles[0]["url"] == ("https://news.example.org/2026/11/24/logistique-decarbonee/")
    assert [a["image_url"] is not None for a in articles] == [True, True, False, True, True]
    assert all("Temps de lecture" not in a["summary"] for a in articles)
    assert all(a["published_at"].endswith("+00:00") for a in articles)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://Example.ORG:443/a/?utm_source=rss&utm_medium=feed&id=3#frag",
            "https://example.org/a/?id=3",
        ),
        (
            "http://example.org:8080/p?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&q=x",
            "http://example.org:8080/p?q=x",
        ),
        ("https://www.lemonde.fr/a.html?xtor=RSS-3208", "https://www.lemonde.fr/a.html"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/search?q=a+b&page=2", "https://example.org/search?q=a+b&page=2"),
        ("http://[2001:DB8::1]:8080/a?utm_source=x", "http://[2001:db8::1]:8080/a"),
    ],
)
def test_canonical_url_drops_tracking_and_fragment(url: str, expected: str) -> None:
    """Campaign and click identifiers go; parameters that identify the page stay."""
    assert canonical_url(url) == expected


def test_shorten_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    """A long text is cut before a word, never inside one, and says it was cut."""
    text = "alpha beta gamma delta epsilon"

    assert shorten(text, 18) == "alpha beta gamma…"
    assert shorten(text, 100) == text


def test_summary_falls_back_to_the_first_meaningful_paragraphs() -> None:
    """Without a description, the content's paragraphs minus boilerplate make the summary."""
    content = "<p>Temps de lecture : 3 minutes</p><h2>Titre</h2><p>Premier paragraphe.</p>"

    assert summarise("", content) == "Titre Premier paragraphe."


def test_published_at_is_aware_utc_and_tolerates_missing_dates() -> None:
    """feedparser's UTC tuples become aware datetimes; no date gives None."""
    entry = {"published_parsed": (2026, 11, 19, 17, 30, 0, 3, 323, 0)}

    assert published_at(entry) == datetime(2026, 11, 19, 17, 30, tzinfo=UTC)
    assert published_at({}) is None


def test_entry_with_unsafe_link_is_not_an_article() -> None:
    """An entry whose only link is javascript: has nothing safe to point readers to."""
    entry = {"title": "x", "link": "javascript:alert(1)"}

    assert normalise(entry, "f", "https://example.org/feed") is None


@pytest.mark.parametrize(
    "link",
    ["https://example.org/a b", "http://user@/post", "http:///post", "https://:443/post"],
)
def test_entry_links_follow_the_one_link_rule(link: str) -> None:
    """Collection keeps an entry's link by the rule the email and the pages link by (http_url):
    a link with whitespace or without a host is no article, rather than one rendered linkless."""
    entry = {"title": "x", "link": link}

    assert http_url(link) is None
    assert normalise(entry, "f", "https://example.org/feed") is None
