"""The shared corpora through collection: real-world feeds, and hostile HTML."""

from __future__ import annotations

import re
from collections.abc import Callable

import feedparser
import pytest
from lxml import html as lxml_html

from newsletter.collect.normalise import canonical_url, normalise
from newsletter.collect.parse import parse
from newsletter.collect.sanitize import ALLOWED_TAGS, sanitize_html
from newsletter.domain.model import FeedStatus
from newsletter.render.renderer import Renderer
from newsletter.runtime.collection import collect
from newsletter.runtime.wiring import Services
from newsletter.store.issues import NewItem
from tests import feedserver
from tests.conftest import shared_path

pytestmark = pytest.mark.integration

SAFE_SCHEMES = ("http://", "https://", "mailto:")
COLLECT = {"concurrency": 16}  # the corpora hold many feeds


def assert_safe(fragment: str, where: str) -> None:
    """No script, handler, dangerous URL, form, frame, object or style in `fragment`."""
    if not fragment:
        return
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str) or element is root:
            continue
        assert element.tag in ALLOWED_TAGS, (where, element.tag, fragment)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, name, fragment)
            assert name.lower() != "style", (where, fragment)
            if name in {"href", "src"}:
                assert value.strip().lower().startswith(SAFE_SCHEMES), (where, value)
    lowered = fragment.lower()
    for forbidden in ("<script", "<iframe", "<form", "<object", "<embed", "<style", "expression("):
        assert forbidden not in lowered, (where, forbidden, fragment)


def assert_plain(text: str, where: str) -> None:
    """Plain text carries no markup at all."""
    assert not re.search(r"<\s*(script|iframe|a|img|form|object|embed|style)\b", text, re.I), (
        where,
        text,
    )


def test_every_real_feed_collects_its_entries(feed_services: Callable[..., Services]) -> None:
    """Each real-world feed, served from loopback, yields feedparser's own count of entries.

    Differences between feedparser's count and what is stored are only: entries without an
    http(s) link (nothing to point a reader to; counted in `without_link`) and entries that
    repeat an article already stored (same canonical URL and guid, or the same URL from
    another feed: one article, not two).
    """
    folder = shared_path("corpus", "real-feeds")
    files = sorted(folder.glob("*.xml"))
    with feedserver.running() as server:
        feeds = {
            path.stem: server.add(f"/{path.name}", feedserver.serve(path.read_bytes()))
            for path in files
        }
        svc = feed_services(feeds, COLLECT)
        report = collect(svc)

    found = {outcome.name: outcome for outcome in report.feeds}
    distinct_urls: set[str] = set()
    distinct_items: set[tuple[str, str]] = set()
    for path in files:
        outcome = found[path.stem]
        expected = feedparser.parse(path.read_bytes())
        assert outcome.status is FeedStatus.OK, (path.name, outcome.error)
        assert outcome.entries == len(expected.entries), path.name
        drafts = [
            draft
            for entry in parse(path.read_bytes(), feeds[path.stem]).entries
            if (draft := normalise(entry, path.stem, feeds[path.stem])) is not None
        ]
        assert outcome.without_link == outcome.entries - len(drafts), path.name
        assert outcome.new <= len(drafts), path.name
        distinct_urls.update(canonical_url(draft.url) for draft in drafts)
        distinct_items.update((canonical_url(draft.url), draft.guid) for draft in drafts)
    stored = svc.store.articles.count()
    assert report.new_articles == stored
    # At least one article per canonical URL; items of one feed sharing a link stay apart
    # when their guids differ, and no (link, guid) pair makes two.
    assert len(distinct_urls) <= stored <= len(distinct_items)
    for article in svc.store.articles.recent(limit=100_000):
        assert_safe(article.content_html, article.url)
        assert_plain(article.summary, article.url)
        assert article.published_at is None or article.published_at.tzinfo is not None


def test_every_hostile_case_is_made_safe() -> None:
    """Every feedparser sanitiser case: the article's HTML is safe and its text is plain.

    Entries without a link get one, so that each case reaches the normaliser and the sanitiser
    (collection would otherwise leave them out for having nothing to link to).
    """
    folder = shared_path("corpus", "feedparser-sanitize")
    cases = sorted(folder.glob("*.xml"))
    assert len(cases) > 700
    checked = 0
    for path in cases:
        url = f"https://example.org/{path.stem}/feed.xml"
        try:
            parsed = parse(path.read_bytes(), url)
        except Exception as exc:  # a case may simply not be a usable feed
            assert type(exc).__name__ == "ParseError", (path.name, exc)
            continue
        for entry in parsed.entries:
            linked = {"link": f"https://example.org/{path.stem}", **entry}
            draft = normalise(linked, "hostile", url)
            assert draft is not None, path.name
            assert_safe(draft.content_html, path.name)
            assert_safe(sanitize_html(draft.content_html), path.name)
            for text in (draft.title, draft.summary, draft.author or ""):
                assert_plain(text, path.name)
            assert draft.image_url is None or draft.image_url.startswith(("http:", "https:"))
            checked += 1
    assert checked > 300


def test_hostile_corpus_through_a_collect_run(feed_services: Callable[..., Services]) -> None:
    """The whole hostile corpus, read by a real collect run: no crash, only safe HTML stored."""
    cases = sorted(shared_path("corpus", "feedparser-sanitize").glob("*.xml"))
    svc = feed_services({path.stem: str(path) for path in cases}, COLLECT)

    report = collect(svc)

    assert len(report.feeds) == len(cases)
    unexpected = [o for o in report.feeds if o.error and "unexpected" in o.error]
    assert unexpected == []
    stored = svc.store.articles.recent(limit=100_000)
    assert stored, "some hostile cases have links and must be stored"
    for article in stored:
        assert_safe(article.content_html, article.url)
        assert_plain(article.title + article.summary, article.url)

    # ... and every hostile article, put in issues and rendered, leaves the email safe.
    renderer = Renderer(svc.config)
    for start in range(0, len(stored), 60):
        chunk = stored[start : start + 60]
        issue = svc.store.issues.create("Hostile", [NewItem(a.id) for a in chunk], svc.clock())
        rendered = renderer.render_issue(issue)
        assert_safe_email(rendered.html, f"issue of articles {start}..{start + len(chunk)}")
        assert "<script" not in rendered.text.lower()


DANGEROUS_TAGS = {"script", "form", "iframe", "frame", "frameset", "object", "embed", "applet",
                  "base", "input", "button", "textarea", "select", "link"}  # fmt: skip
EMAIL_URL_PREFIXES = ("http://", "https://", "mailto:", "#", "%%")


def assert_safe_email(document: str, where: str) -> None:
    """A whole rendered email: its own <style> is allowed, nothing active from a feed is."""
    root = lxml_html.document_fromstring(document)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag.lower() not in DANGEROUS_TAGS, (where, element.tag)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, element.tag, name)
            if name.lower() in {"href", "src", "background", "action", "formaction"}:
                assert value.strip().lower().startswith(EMAIL_URL_PREFIXES), (where, name, value)
            if name.lower() == "style":
                lowered = value.lower()
                for forbidden in ("expression(", "javascript:", "vbscript:", "behavior:"):
                    assert forbidden not in lowered, (where, value)
    lowered = document.lower()
    for forbidden in ("javascript:", "vbscript:", "data:text", "expression("):
        assert forbidden not in lowered, (where, forbidden)
