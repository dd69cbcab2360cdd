"""Image sizes, from what a feed or page declares to the width and height the email states.

Outlook draws an image at exactly its width x height attributes: a height that does not follow
the picture's ratio squashes it. These tests give square, portrait and lying sizes and check the
email keeps each picture's ratio, or leaves the height out when the ratio is unknown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsletter.collect.enrich import PageMetadata, enriched, page_metadata
from newsletter.collect.normalise import normalise
from newsletter.collect.parse import parse as parse_feed
from newsletter.domain.images import DisplayBox, ImageSize, dimension, display_box
from newsletter.domain.model import ArticleDraft, FeedSource, Issue
from newsletter.render.renderer import Renderer
from newsletter.store import Store
from tests.render_support import ROOT, parse, render_config
from tests.sample_issue import sample_issue

PAGE_URL = "https://news.example.org/2026/11/article/"
FEED_URL = "https://news.example.org/feed.xml"


# -- sizes: declared values, and the box an email gives them -----------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1200", 1200), (" 630px ", 630), ("630PX", 630), (1200, 1200), (630.0, 630)],
)
def test_declared_dimensions_are_read(value: object, expected: int) -> None:
    """Widths and heights as feeds, pages and JSON-LD write them."""
    assert dimension(value) == expected


@pytest.mark.parametrize(
    "value",
    ["100%", "0", "-5", "1e9", "auto", "", "12 px 3", "99999999", 0, -1, 20_001, 1.5, True,
     None, "630\" onerror=\"alert(1)", {"value": 5}],
)  # fmt: skip
def test_lying_dimensions_are_unknown(value: object) -> None:
    """Percentages, zero, negatives, absurd sizes and markup are not sizes."""
    assert dimension(value) is None


@pytest.mark.parametrize(
    ("size", "box"),
    [
        (ImageSize(1200, 630), DisplayBox(536, 281)),  # landscape: full width
        (ImageSize(600, 600), DisplayBox(402, 402)),  # square: narrowed to the height cap
        (ImageSize(800, 1200), DisplayBox(268, 402)),  # portrait: narrowed, never squashed
        (ImageSize(20_000, 1), DisplayBox(536, 1)),  # a sliver stays at least 1px high
        (ImageSize(1, 20_000), DisplayBox(1, 402)),
        (None, DisplayBox(536, None)),  # unknown: width only, the client follows the picture
    ],
)
def test_display_box_keeps_the_ratio_within_the_slot(
    size: ImageSize | None, box: DisplayBox
) -> None:
    assert display_box(size, 536, 402) == box


# -- feeds and pages declare sizes ---------------------------------------------------------------


def _entry(item_xml: str) -> Any:
    feed = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>
<link>https://news.example.org/</link><item><title>A</title>
<link>https://news.example.org/a</link>{item_xml}</item></channel></rss>"""
    [entry] = parse_feed(feed.encode(), FEED_URL).entries
    return entry


@pytest.mark.parametrize(
    ("item_xml", "expected"),
    [
        ('<media:content url="https://cdn.example.org/a.jpg" medium="image" width="1200" '
         'height="630"/>', (1200, 630)),
        ('<media:thumbnail url="https://cdn.example.org/a.jpg" width="150" height="150"/>',
         (150, 150)),
        ('<enclosure url="https://cdn.example.org/a.jpg" type="image/jpeg" length="48211"/>',
         (None, None)),
        ("<description>&lt;img src=\"https://cdn.example.org/a.jpg\" width=\"600\" "
         "height=\"900\"&gt; texte</description>", (600, 900)),
        ('<media:content url="https://cdn.example.org/a.jpg" medium="image" width="100%" '
         'height="630"/>', (None, None)),
    ],
)  # fmt: skip
def test_feed_declared_sizes_are_kept_with_the_image(
    item_xml: str, expected: tuple[int | None, int | None]
) -> None:
    """media:content / media:thumbnail / <img> sizes; an enclosure declares none; a lie is none."""
    draft = normalise(_entry(item_xml), "f", FEED_URL)
    assert draft is not None and draft.image_url == "https://cdn.example.org/a.jpg"
    assert (draft.image_width, draft.image_height) == expected


def test_opengraph_size_goes_with_the_opengraph_image() -> None:
    """og:image:width/height describe og:image; a twitter:image chosen instead has no size."""
    page = b"""<html><head><meta property="og:image" content="/a.jpg">
    <meta property="og:image:width" content="1080"><meta property="og:image:height" content="1350">
    </head></html>"""
    found = page_metadata(page, PAGE_URL)
    assert found.image == "https://news.example.org/a.jpg"
    assert found.image_size == ImageSize(1080, 1350)
    twitter = b"""<html><head><meta property="og:image:width" content="1080">
    <meta property="og:image:height" content="1350">
    <meta name="twitter:image" content="https://cdn.example.org/t.jpg"></head></html>"""
    assert page_metadata(twitter, PAGE_URL).image_size is None


def test_json_ld_image_object_size() -> None:
    """An ImageObject's width/height, as numbers, strings or QuantitativeValues; lies dropped."""
    page = b"""<script type="application/ld+json">{"@type": "NewsArticle", "image":
    {"@type": "ImageObject", "url": "https://cdn.example.org/a.jpg",
     "width": {"@type": "QuantitativeValue", "value": 800}, "height": "800"}}</script>"""
    assert page_metadata(page, PAGE_URL).image_size == ImageSize(800, 800)
    hostile = page.replace(b'"800"', b'"800\\" onerror=\\"alert(1)"')
    assert page_metadata(hostile, PAGE_URL).image_size is None


def _draft(image: str | None, size: tuple[int, int] | None = None) -> ArticleDraft:
    draft = ArticleDraft("f", "g", PAGE_URL, "Titre", "", "", image, None, None)
    if size:
        draft = replace(draft, image_width=size[0], image_height=size[1])
    return draft


def test_enrichment_brings_the_size_of_the_image_it_brings() -> None:
    """A page's image comes with its size; the feed's image keeps the feed's size, and takes
    the page's only when the feed declared none for that same picture."""
    page = PageMetadata(image="https://cdn.example.org/p.jpg", image_size=ImageSize(600, 600))
    filled = enriched(_draft(None), page)
    assert (filled.image_url, filled.image_width, filled.image_height) == (
        "https://cdn.example.org/p.jpg", 600, 600
    )  # fmt: skip
    own = enriched(_draft("https://cdn.example.org/f.jpg", (1200, 630)), page)
    assert (own.image_url, own.image_width, own.image_height) == (
        "https://cdn.example.org/f.jpg", 1200, 630
    )  # fmt: skip
    other = enriched(_draft("https://cdn.example.org/f.jpg"), page)
    assert (other.image_width, other.image_height) == (None, None)  # another picture's size
    same = enriched(_draft("https://cdn.example.org/p.jpg"), page)
    assert (same.image_width, same.image_height) == (600, 600)


# -- the store keeps them ------------------------------------------------------------------------


def test_sizes_are_stored_with_the_article(store: Store) -> None:
    """Both databases keep the declared size, and no size as NULL."""
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    store.feeds.sync([FeedSource("f", FEED_URL)])
    feed_id = store.feeds.id_of("f")
    sized = replace(_draft("https://cdn.example.org/a.jpg", (800, 1200)), guid="1")
    unsized = replace(_draft(None), guid="2", url=PAGE_URL + "2")
    assert store.articles.add(feed_id, [sized, unsized], now) == 2
    by_guid = {a.guid: a for a in store.articles.recent()}
    assert (by_guid["1"].image_width, by_guid["1"].image_height) == (800, 1200)
    assert (by_guid["2"].image_width, by_guid["2"].image_height) == (None, None)


def test_migration_keeps_articles_collected_before_it(database_url: str) -> None:
    """A database at 0001 with an article upgrades; the article reads back with no size."""
    import sqlalchemy as sa

    from newsletter.store import migrate

    old = Store.from_url(database_url)
    migrate.upgrade(old.engine, "0001")
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    with old.engine.begin() as connection:
        # Written as the schema of 0001 had it: today's repositories know later columns.
        connection.execute(
            sa.text("INSERT INTO feeds (name, url, config_url) VALUES ('f', :url, :url)"),
            {"url": FEED_URL},
        )
        feed_id = connection.execute(sa.text("SELECT id FROM feeds WHERE name = 'f'")).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO articles (feed_id, guid, url, title, image_url, collected_at)"
                " VALUES (:feed, 'g', :url, 'Avant', 'https://cdn.example.org/a.jpg', :now)"
            ),
            {"feed": feed_id, "url": PAGE_URL, "now": now},
        )
    old.migrate()
    [article] = old.articles.recent()
    old.close()
    assert (article.title, article.image_url) == ("Avant", "https://cdn.example.org/a.jpg")
    assert (article.image_width, article.image_height) == (None, None)


# -- the email states them -------------------------------------------------------------------------


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(render_config(tmp_path))


def _with_sizes(issue: Issue, sizes: list[tuple[int, int] | None]) -> Issue:
    items = tuple(
        replace(
            item,
            article=replace(
                item.article,
                image_url=f"https://cdn.example.org/{n}.jpg",
                image_width=size[0] if size else None,
                image_height=size[1] if size else None,
            ),
        )
        for n, (item, size) in enumerate(zip(issue.items, sizes, strict=True))
    )
    return replace(issue, items=items)


def _images(html: str) -> dict[str, Any]:
    return {img.get("src").rsplit("/", 1)[1]: img for img in parse(html).xpath("//img")}


def _style_width(img: Any) -> int:
    match = re.search(r"(?:^|;)\s*width:\s*(\d+)px", img.get("style"))
    assert match, img.get("style")
    return int(match.group(1))


@pytest.mark.parametrize("lead", [(600, 600), (800, 1200), (1200, 630)])
def test_square_and_portrait_images_keep_their_ratio(renderer: Renderer, lead: Any) -> None:
    """Lead image and thumbnails: width/height attributes in the picture's own ratio (what
    Outlook draws), the CSS width equal to the attribute, never the old 536x281 / 160x84."""
    sizes = [lead, (600, 600), (800, 1200), (1080, 1350), (1200, 630)]
    html = renderer.render_issue(_with_sizes(sample_issue(5), sizes)).html
    images = _images(html)
    assert len(images) == 5
    for n, (width, height) in enumerate(sizes):
        img = images[f"{n}.jpg"]
        shown_w, shown_h = int(img.get("width")), int(img.get("height"))
        # Rounded to whole pixels: within half a pixel of the exact ratio.
        assert abs(shown_h - shown_w * height / width) <= 0.5 + height / width / 2, img.attrib
        assert _style_width(img) == shown_w
        assert "height:auto" in img.get("style").replace(" ", "")
        slot = (536, 402) if n == 0 else (160, 160)
        assert shown_w <= slot[0] and shown_h <= slot[1]
        assert max(shown_w == slot[0], shown_h == slot[1])  # as large as the slot allows


def test_unknown_size_states_no_height(renderer: Renderer) -> None:
    """No declared size: width attribute only (Outlook then keeps the picture's ratio), CSS
    height auto, and the phone rule that widens a landscape lead image applies (never to a
    thumbnail, which stays beside its text)."""
    html = renderer.render_issue(_with_sizes(sample_issue(2), [None, None])).html
    for img in _images(html).values():
        assert img.get("height") is None
        assert img.get("width") in ("536", "160")
        assert "height:auto" in img.get("style").replace(" ", "")
    classes = [img.get("class") for img in _images(html).values()]
    assert classes == ["nl-hero nl-hero-wide", "nl-thumb"]


def test_thumbnails_stay_beside_the_text_on_phones(renderer: Renderer) -> None:
    """No thumbnail is widened on phones, whatever its shape: the phone rule shrinks them
    beside their text; only the lead image may fill the screen."""
    html = renderer.render_issue(
        _with_sizes(sample_issue(4), [(1200, 630), (600, 600), (800, 1200), (1200, 630)])
    ).html
    images = _images(html)
    assert [images[f"{n}.jpg"].get("class") for n in (1, 2, 3)] == ["nl-thumb"] * 3
    assert "nl-hero-wide" in images["0.jpg"].get("class")
    phone_rules = parse(html).xpath("//style")[0].text
    assert re.search(r"\.nl-thumb \{\s*width: 88px !important", phone_rules)
    assert ".nl-thumb-wide" not in phone_rules and "nl-stack" not in phone_rules


def test_logo_height_is_stated_only_when_configured(tmp_path: Path) -> None:
    """The logo is drawn in its own ratio unless the theme gives its height."""
    logo = "https://cdn.example.org/logo.png"
    plain = Renderer(render_config(tmp_path, theme={"logo_url": logo})).render_issue(
        sample_issue(1)
    )
    [img] = [i for i in parse(plain.html).xpath("//img") if i.get("src") == logo]
    assert (img.get("width"), img.get("height")) == ("160", None)
    sized = Renderer(
        render_config(tmp_path, theme={"logo_url": logo, "logo_width": 200, "logo_height": 50})
    ).render_issue(sample_issue(1))
    [img] = [i for i in parse(sized.html).xpath("//img") if i.get("src") == logo]
    assert (img.get("width"), img.get("height")) == ("200", "50")


def test_no_hard_coded_image_heights_in_the_templates() -> None:
    """No <img> in templates/email/ has a literal height, nor a CSS rule a fixed image height."""
    folder = ROOT / "templates" / "email"
    for path in folder.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<img\b[^>]*>", text):
            assert not re.search(r"\bheight\s*=\s*[\"']?\d", tag), f"{path.name}: {tag}"
            assert not re.search(r"height\s*:\s*\d", tag), f"{path.name}: {tag}"
    css = (folder / "email.css").read_text(encoding="utf-8")
    for rule in re.findall(r"\.nl-(?:hero|thumb)[^{]*\{[^}]*\}", css):
        assert not re.search(r"(?<![-\w])height\s*:\s*\d", rule), rule


def test_declared_sizes_cannot_inject_markup(renderer: Renderer) -> None:
    """Sizes reach the email as integers only: a stored value that is not one is ignored."""
    issue = sample_issue(1)
    [item] = issue.items
    not_a_number: Any = '1" onerror="alert(1)'
    hostile = replace(item, article=replace(item.article, image_width=not_a_number, image_height=5))
    html = renderer.render_issue(replace(issue, items=(hostile,))).html
    assert "onerror" not in html
    [img] = [i for i in parse(html).xpath("//img")]
    assert (img.get("width"), img.get("height")) == ("536", None)
