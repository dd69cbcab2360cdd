"""Reading a page's sharing metadata: untrusted input in, plain text and http(s) URLs out."""

from __future__ import annotations

from newsletter.collect.enrich import PageMetadata, enriched, needs_enrichment, page_metadata
from newsletter.domain.model import ArticleDraft

URL = "https://news.example.org/2026/11/article/"


def draft(summary: str = "", image: str | None = None) -> ArticleDraft:
    return ArticleDraft("f", "g", URL, "Titre", summary, "", image, None, None)


def test_opengraph_wins_over_meta_description() -> None:
    """og:description first, the plain meta description only as a last resort."""
    page = b"""<html><head><meta name="description" content="Meta">
    <meta property="og:description" content="OpenGraph &amp; co"></head></html>"""
    assert page_metadata(page, URL) == PageMetadata(description="OpenGraph & co", image=None)


def test_relative_image_resolves_and_unsafe_ones_are_dropped() -> None:
    """A relative og:image resolves against the page; javascript:/data:/pixels never pass."""
    page = b"""<html><head><meta property="og:image" content="data:image/png;base64,AAAA">
    <meta name="twitter:image" content="../img/photo.jpg"></head></html>"""
    assert page_metadata(page, URL).image == "https://news.example.org/2026/11/img/photo.jpg"
    hostile = b"""<html><head><meta property="og:image" content="javascript:alert(1)">
    <meta property="og:image:url" content="https://t.example.org/pixel.gif?u=1"></head></html>"""
    assert page_metadata(hostile, URL).image is None


def test_broken_or_absent_metadata_gives_nothing() -> None:
    """Bad JSON-LD, deep nesting, binary junk or an empty body: no metadata, no exception."""
    deep = b"[" * 5000 + b"]" * 5000
    for body in (
        b"",
        b"\x00\xff\xfe binary",
        b'<script type="application/ld+json">{not json</script>',
        b'<script type="application/ld+json">' + deep + b"</script>",
        b"<html><head></head><body>no metadata</body></html>",
    ):
        assert page_metadata(body, URL) == PageMetadata()


def test_enrichment_fills_only_what_is_missing() -> None:
    """What the feed gave is kept; only a missing summary or image is filled."""
    found = PageMetadata(description="De la page", image="https://cdn.example.org/a.jpg")
    assert needs_enrichment(draft())
    assert not needs_enrichment(draft("Du flux", "https://feed.example.org/b.jpg"))
    filled = enriched(draft("Du flux"), found)
    assert (filled.summary, filled.image_url) == ("Du flux", "https://cdn.example.org/a.jpg")
