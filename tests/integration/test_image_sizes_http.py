"""Image sizes end to end: a loopback feed and article pages declare them (truthfully or not),
collection stores them, and the digest states heights in each picture's own ratio."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from newsletter.curate import issues
from newsletter.domain.clock import FrozenClock
from newsletter.render.renderer import Renderer
from newsletter.runtime import curation, wiring
from newsletter.runtime.collection import collect
from newsletter.runtime.config import Config
from tests import feedserver
from tests.feedserver import FeedServer
from tests.render_support import parse

pytestmark = pytest.mark.integration

OG_PAGE = """<!doctype html><html><head>
<meta property="og:description" content="Une page qui déclare son image.">
<meta property="og:image" content="/img/page.jpg">
<meta property="og:image:width" content="1080"><meta property="og:image:height" content="1350">
</head><body></body></html>"""

LYING_PAGE = """<!doctype html><html><head>
<meta property="og:description" content="Une page qui ment sur la taille de son image.">
<meta property="og:image" content="/img/liar.jpg">
<meta property="og:image:width" content="100%"><meta property="og:image:height" content="0">
</head><body></body></html>"""


def _feed(server: FeedServer) -> bytes:
    media = {
        "Carré": '<media:content url="https://cdn.example.org/square.jpg" medium="image" '
        'width="600" height="600"/>',
        "Portrait": '<media:thumbnail url="https://cdn.example.org/portrait.jpg" width="800" '
        'height="1200"/>',
        "Menteur": '<media:content url="https://cdn.example.org/huge.jpg" medium="image" '
        'width="100%" height="99999999"/>',
        "Page": "",  # no image: enrichment reads the page's og:image and its size
        "Page menteuse": "",
    }
    pages = {"Page": "/a/page", "Page menteuse": "/a/liar"}
    items = "".join(
        f"<item><title>{title}</title><link>{server.url(pages.get(title, f'/a/{n}'))}</link>"
        f"<guid>g{n}</guid><pubDate>Mon, 2{n} Nov 2026 08:00:00 +0100</pubDate>"
        f"{'' if title in pages else '<description>Un résumé.</description>'}{extra}</item>"
        for n, (title, extra) in enumerate(media.items())
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        f"<link>https://example.org/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feedserver.running() as running:
        yield running


def test_collected_sizes_give_outlook_the_real_ratio(
    server: FeedServer, make_config: Callable[..., Config], clock: FrozenClock
) -> None:
    """Square, portrait and page-declared sizes are stored and drawn in their ratio; a feed or
    page lying about a size ("100%", 0, 99999999) leaves it unknown: no height stated."""
    feed_url = server.add("/feed.xml", feedserver.serve(_feed(server)))
    server.add("/a/page", feedserver.serve(OG_PAGE.encode(), "text/html; charset=utf-8"))
    server.add("/a/liar", feedserver.serve(LYING_PAGE.encode(), "text/html; charset=utf-8"))
    feeds = f'[[feeds]]\nname = "t"\nurl = "{feed_url}"\nsection = "S"\n'
    config = make_config(extra="[collect]\nenrich = true\n", feeds=feeds)
    services = wiring.build(config, clock=clock)
    services.store.migrate()
    try:
        assert collect(services).new_articles == 5
        stored = {
            a.title: (a.image_width, a.image_height) for a in services.store.articles.recent()
        }
        assert stored == {
            "Carré": (600, 600),
            "Portrait": (800, 1200),
            "Menteur": (None, None),
            "Page": (1080, 1350),
            "Page menteuse": (None, None),
        }
        title_of = {a.image_url: a.title for a in services.store.articles.recent()}
        drafted = curation.draft(services).issue
        assert drafted is not None
        html = (
            Renderer(services.config)
            .render_issue(issues.get(services.store.issues, drafted.id))
            .html
        )
    finally:
        services.close()

    # Article images are decorative (alt=""): each is known by its source.
    shown = {title_of[img.get("src")]: img for img in parse(html).xpath("//img")}
    assert set(shown) == set(stored)
    for title, (width, height) in stored.items():
        img = shown[title]
        if width is None or height is None:
            assert img.get("height") is None, title  # unknown: Outlook follows the picture
            continue
        shown_w, shown_h = int(img.get("width")), int(img.get("height"))
        assert abs(shown_h / shown_w - height / width) < 0.02, (title, shown_w, shown_h)
