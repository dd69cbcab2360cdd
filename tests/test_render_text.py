"""The pure helpers of rendering: link checks and UTM, French dates and spacing, 72-column
wrapping, and the editor's Markdown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletter.domain.links import http_url, with_utm
from newsletter.render.markup import markdown_html, markdown_text
from newsletter.render.plaintext import wrap
from newsletter.render.typography import format_date, french_spacing


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a?b=1",
        "http://example.org",
        "  https://example.org/trimmed  ",
    ],
)
def test_http_url_keeps_absolute_http_urls(url: str) -> None:
    """Absolute http(s) URLs with a host pass (surrounding blanks trimmed)."""
    assert http_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "vbscript:x",
        "//example.org/x",
        "/relative",
        "https://",
        "https://exa mple.org",
        "https://example.org/\nSet-Cookie:x",
        "http://[::1",
    ],
)
def test_http_url_drops_everything_else(url: str | None) -> None:
    """Scripts, data, relative, protocol-relative, host-less and broken URLs are refused."""
    assert http_url(url) is None


def test_with_utm_replaces_existing_tags_and_keeps_the_rest() -> None:
    """Old utm_* are replaced, other parameters and the fragment kept in order."""
    url = "https://ex.org/p?id=3&utm_source=rss&utm_medium=rss&x=%C3%A9#top"
    tagged = with_utm(url, "maddynews", "email", "maddynews-42")
    assert tagged == (
        "https://ex.org/p?id=3&x=%C3%A9&utm_source=maddynews&utm_medium=email"
        "&utm_campaign=maddynews-42#top"
    )


def test_format_date_in_french_local_time() -> None:
    """Dates are local to the newsletter's zone, French month names, 1er for the first."""
    late_utc = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # already 1 March in Paris
    assert format_date(late_utc, "Europe/Paris", "fr") == "1er\u00a0mars 2026"
    monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    assert format_date(monday, "Europe/Paris", "fr", weekday=True) == "lundi 23\u00a0novembre 2026"
    assert format_date(monday, "Europe/Paris", "en") == "23 November 2026"


def test_french_spacing_glues_punctuation() -> None:
    """Spaces before : ; ! ? » and after « become non-breaking; URLs and times untouched."""
    source = "Pourquoi ? Parce que : « oui » ; enfin ! https://x.org 12:30"
    assert french_spacing(source) == (
        "Pourquoi\u00a0? Parce que\u00a0: «\u00a0oui\u00a0»\u00a0; enfin\u00a0! https://x.org 12:30"
    )


def test_wrap_keeps_72_columns_hanging_bullets_and_whole_urls() -> None:
    """Long lines refill at spaces; bullets hang; a URL is never cut; blank runs collapse."""
    url = "https://example.org/" + "a" * 80
    text = "- " + "mot " * 30 + "\n\n\n\nLire la suite\u00a0: " + url + "\n"
    wrapped = wrap(text)
    lines = wrapped.splitlines()
    assert all(len(line) <= 72 for line in lines if line != url)
    assert lines[0].startswith("- mot") and lines[1].startswith("  mot")
    assert url in lines and "\n\n\n" not in wrapped
    assert "Lire la suite\u00a0:" in lines


def test_markdown_html_is_safe_and_small() -> None:
    """Raw HTML is text, unsafe links lose their URL, images and headings are not rendered."""
    html = markdown_html(
        "**Gras** <img src=x onerror=alert(1)> [ok](https://ex.org) [ko](javascript:alert(1))"
        "\n\n# Titre\n\n![photo](https://ex.org/p.jpg)"
    )
    assert "<strong>Gras</strong>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://ex.org">ok</a>' in html and "javascript" not in html
    assert "<h1>" not in html and "<img" not in html
    assert markdown_html("   ") == ""


def test_markdown_text_lists_links() -> None:
    """Plain text keeps words, numbers links and lists them; lists stay tight."""
    result = markdown_text(
        "Voir [le site](https://ex.org) et [la FAQ](https://ex.org/faq).\n\n- un\n- deux"
    )
    assert result.text == "Voir le site [1] et la FAQ [2].\n\n- un\n- deux"
    assert result.links == ("https://ex.org", "https://ex.org/faq")
