"""A source's display name: the config's `title`, else the feed's own title, else its name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from newsletter.collect.normalise import feed_title
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import IssueItem
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.runtime.collection import collect
from tests.sample_issue import sample_issue

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>{title}</title><link>https://example.org/</link>
<item><title>Levée de fonds</title><link>https://example.org/a/{slug}</link>
<description>Une start-up lève des fonds.</description></item>
</channel></rss>"""


def _feeds(tmp_path: Path) -> str:
    (tmp_path / "own.xml").write_text(
        FEED.format(title="Les &lt;b&gt;Échos&lt;/b&gt; Start", slug="1")
    )
    (tmp_path / "titled.xml").write_text(FEED.format(title="ignored own title", slug="2"))
    (tmp_path / "bare.xml").write_text(FEED.format(title="", slug="3"))
    return """
[[feeds]]
name = "les-echos-start"
url = "own.xml"
[[feeds]]
name = "frenchweb"
url = "titled.xml"
title = "FrenchWeb"
[[feeds]]
name = "bare-feed"
url = "bare.xml"
"""


@pytest.fixture
def collected(
    tmp_path: Path, make_config: Callable[..., config_module.Config], clock: FrozenClock
) -> Iterator[wiring.Services]:
    """Services on a migrated database with the three feeds above collected."""
    services = wiring.build(make_config(feeds=_feeds(tmp_path)), clock=clock)
    try:
        services.store.migrate()
        collect(services)
        yield services
    finally:
        services.close()


def test_display_names_come_from_config_then_feed_then_name(collected: wiring.Services) -> None:
    """Each article names its source for readers; the feed's HTML title is reduced to text."""
    by_feed = {a.feed_name: a.source_name for a in collected.store.articles.recent(10)}
    assert by_feed == {
        "les-echos-start": "Les Échos Start",
        "frenchweb": "FrenchWeb",
        "bare-feed": "bare-feed",
    }


def test_feed_title_is_one_short_line() -> None:
    """Markup, line breaks and overlong titles become one line of at most 120 characters."""
    assert feed_title("<b>Maddy</b>\n ness") == "Maddy ness"
    assert len(feed_title("mot " * 100)) <= 120


def test_the_email_shows_the_display_name(collected: wiring.Services) -> None:
    """The rendered digest credits each source by its display name, not its config slug."""
    articles = collected.store.articles.recent(10)
    items = tuple(IssueItem(article=a, position=n) for n, a in enumerate(articles))
    issue = replace(sample_issue(1), items=items)
    html = collected.renderer.render_issue(issue).html
    assert "FrenchWeb" in html and "Les Échos Start" in html
    assert "les-echos-start" not in html and "bare-feed" in html
