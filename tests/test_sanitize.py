"""The allowlist sanitiser and plain-text extraction."""

from __future__ import annotations

import pytest

from newsletter.collect.sanitize import is_boilerplate, paragraphs, sanitize_html, to_text

BASE = "https://news.example.org/2026/11/post/"


@pytest.mark.parametrize(
    ("hostile", "expected"),
    [
        ("<p>safe<script>alert(1)</script> text</p>", "<p>safe text</p>"),
        ('<img src="https://x.org/a.jpg" onerror="alert(1)">', '<img src="https://x.org/a.jpg">'),
        (
            '<a href="javascript:alert(1)">click</a>',
            '<a rel="noopener noreferrer">click</a>',
        ),
        ('<a href="vbscript:msgbox(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        ('<img src="data:image/png;base64,AAAA">', ""),
        ('<p style="background:url(javascript:x);width:expression(alert(1))">t</p>', "<p>t</p>"),
        ('<form action="https://evil.example"><input name="q">go</form>', ""),
        ('<iframe src="https://evil.example"></iframe><p>after</p>', "<p>after</p>"),
        ('<object data="x.swf"><embed src="x.swf"></object>ok', "ok"),
        ("<style>p{color:red}</style><p>styled</p>", "<p>styled</p>"),
        ('<svg onload="alert(1)"><circle/></svg><b>b</b>', "<b>b</b>"),
        ('<meta http-equiv="refresh" content="0;url=https://evil">x', "x"),
    ],
)
def test_hostile_html_is_neutralised(hostile: str, expected: str) -> None:
    """Scripts, handlers, dangerous URLs, forms, frames, objects and styles are removed."""
    assert sanitize_html(hostile, BASE) == expected


def test_relative_urls_resolve_against_the_base() -> None:
    """Links and images given relative resolve against the article's URL."""
    cleaned = sanitize_html('<a href="../other/">o</a><img src="/i.png" alt="i">', BASE)

    assert cleaned == (
        '<a href="https://news.example.org/2026/11/other/" rel="noopener noreferrer">o</a>'
        '<img src="https://news.example.org/i.png" alt="i">'
    )


@pytest.mark.parametrize(
    "pixel",
    [
        '<img src="https://example.org/a.gif" width="1" height="1" alt="">',
        '<img src="https://example.org/a.gif" height="0">',
        '<img src="https://stats.example.org/pixel.gif?p=1">',
        '<img src="https://feeds.feedburner.com/~r/example/~4/abc">',
        '<img src="https://example.org/open/tracking/abc.png">',
    ],
)
def test_tracking_pixels_are_dropped(pixel: str) -> None:
    """Invisible images and images whose URL says they count opens are removed."""
    assert sanitize_html(f"<p>text</p>{pixel}", BASE) == "<p>text</p>"


def test_promotion_and_sharing_blocks_are_dropped_with_their_content() -> None:
    """Newsletter promos, share bars and related-posts blocks go, nested content included."""
    fragment = (
        "<p>Article.</p>"
        '<div class="newsletter-promo"><h2>MADDYNEWS</h2><div><p>Inscrivez-vous</p></div></div>'
        '<div class="sharedaddy sd-sharing"><a href="https://x.org/share">Partager</a></div>'
        '<div id="jp-relatedposts">Related</div>'
        "<p>End.</p>"
    )

    assert sanitize_html(fragment, BASE) == "<p>Article.</p><p>End.</p>"


def test_reading_time_paragraph_is_dropped() -> None:
    """A "Temps de lecture" stub is furniture, not content."""
    cleaned = sanitize_html("<p>Temps de lecture : 4 minutes</p><p>Le texte.</p>", BASE)

    assert cleaned == "<p>Le texte.</p>"


def test_sanitising_is_idempotent_and_keeps_french_text() -> None:
    """Cleaning clean HTML changes nothing; accents and guillemets survive."""
    fragment = "<p>« <em>Nous livrons déjà 40 villes</em> », affirme-t-elle.</p>"

    once = sanitize_html(fragment, BASE)

    assert once == fragment
    assert sanitize_html(once, BASE) == once


def test_to_text_gives_one_paragraph_per_line() -> None:
    """Blocks become lines, entities are decoded, scripts vanish with their text."""
    fragment = (
        "<p>Un &amp; deux</p><script>x()</script><ul><li>trois</li><li>quatre</li></ul>a<br>b"
    )

    assert to_text(fragment) == "Un & deux\ntrois\nquatre\na\nb"


@pytest.mark.parametrize(
    "line",
    [
        "Temps de lecture : minute",
        "Temps de lecture : 4 minutes",
        "5 min read",
        "Lire la suite",
        "Read more »",
        "Continue reading →",
        "The post Ten things appeared first on Example Blog.",
        "L'article Dix choses est apparu en premier sur Maddyness.",
        "[…]",
    ],
)
def test_boilerplate_lines_are_recognised(line: str) -> None:
    """Reading-time stubs, read-more links and feed footers are boilerplate."""
    assert is_boilerplate(line)


def test_real_sentences_are_not_boilerplate() -> None:
    """Sentences that merely mention reading are content."""
    text = "<p>La lecture reste un loisir majeur.</p><p>Read the room, says the CEO.</p>"

    assert paragraphs(text) == [
        "La lecture reste un loisir majeur.",
        "Read the room, says the CEO.",
    ]


def test_absurdly_nested_markup_is_flattened_to_escaped_text() -> None:
    """Nesting deeper than any article (which makes HTML parsers slow) becomes plain paragraphs."""
    fragment = "<div>" * 5_000 + "deep <script>alert(1)</script>" + "</div>" * 5_000

    cleaned = sanitize_html(fragment, BASE)

    assert cleaned == "<p>deep</p><p>alert(1)</p>"
    assert to_text(fragment) == "deep\nalert(1)"


def test_oversized_fragments_are_cut_and_stay_well_formed() -> None:
    """Article HTML beyond the length cap is cut; the sanitiser closes what was left open."""
    fragment = "<p><b>" + "mot " * 200_000 + "</b></p>"

    cleaned = sanitize_html(fragment, BASE)

    assert len(cleaned) < 310_000
    assert cleaned.startswith("<p><b>mot") and cleaned.endswith("</b></p>")
