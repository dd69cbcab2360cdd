"""The public archive (sent issues only, nothing personal, valid RSS) and the desk's pure
logic: pre-send checks, weeks of the growth chart, active subscribers over time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import feedparser
import lxml.html
import pytest
from lxml import etree

from newsletter.curate.issues import send_now
from newsletter.curate.presend import check_html, check_issue
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import Article, Issue, IssueItem, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import jobs
from newsletter.runtime.wiring import Services
from newsletter.store.desk import DeskQueries
from newsletter.web.desk.growth import growth_svg, weeks
from tests.desk_support import client_for, newsroom


def sent_issue(services: Services) -> Issue:
    issue = newsroom(services, subscribers=3)
    send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    sent = services.store.issues.get(issue.id)
    assert sent is not None and sent.state is IssueState.SENT
    return sent


def test_archive_shows_sent_issues_without_personal_data(services: Services) -> None:
    """The web version of a sent issue has no token, no subscriber address, no placeholder,
    and no unsubscribe link: a sign-up form instead."""
    issue = sent_issue(services)
    client = client_for(services)
    page = client.get(f"/archive/{issue.id}")
    assert page.status_code == 200
    assert issue.items[0].article.title[:20] in page.text
    emails = [s.email for s in services.store.subscribers.iter()]
    assert emails and not any(email in page.text for email in emails)
    assert "/unsubscribe/" not in page.text and "%%" not in page.text
    assert 'action="/subscribe"' in page.text
    index = client.get("/archive").text
    assert f"/archive/{issue.id}" in index
    assert not any(email in index for email in emails)


def test_archive_hides_issues_that_were_not_sent(services: Services) -> None:
    """Drafts, scheduled and canceled issues are 404 in the archive and absent from it."""
    issue = newsroom(services)
    client = client_for(services)
    assert client.get(f"/archive/{issue.id}").status_code == 404
    send_now(services.store.issues, issue.id, services.clock())  # scheduled, not sent yet
    assert client.get(f"/archive/{issue.id}").status_code == 404
    assert client.get("/archive/999").status_code == 404
    assert f"/archive/{issue.id}" not in client.get("/archive").text
    assert "<item>" not in client.get("/archive/feed.xml").text


def test_archive_feed_is_valid_rss(services: Services) -> None:
    """feed.xml is well-formed RSS 2.0 with a channel and one item per sent issue."""
    issue = sent_issue(services)
    response = client_for(services).get("/archive/feed.xml")
    assert response.headers["content-type"].startswith("application/rss+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):
        assert channel.findtext(tag)
    items = channel.findall("item")
    assert [item.findtext("link") for item in items] == [
        f"https://news.example.org/archive/{issue.id}"
    ]
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.entries[0].title == issue.subject


HOSTILE = [
    "<script>alert(document.cookie)</script> Levée de fonds",
    '<img src=x onerror="alert(1)"> French Tech',
    "Fin de CDATA ]]> <b>gras</b> & AT&T",
    "Caractères de contrôle \x0b\x1b et \ufffe",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=["script", "img-onerror", "cdata-end", "controls"])
def test_archive_feed_shows_hostile_titles_as_text(services: Services, hostile: str) -> None:
    """A subject and a preheader (the lead article's title, from a feed) full of markup reach
    readers of feed.xml as text: title and description are HTML whose only content is that
    text, as lxml and feedparser read them; no element, no attribute anywhere."""
    issue = newsroom(services, subscribers=1)
    services.store.issues.update_content(issue.id, subject=hostile, preheader=hostile)
    send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    shown = hostile.translate({0x0B: None, 0x1B: None, 0xFFFE: None})  # XML cannot hold those

    served = client_for(services).get("/archive/feed.xml")

    assert served.status_code == 200
    item = etree.fromstring(served.content).find("channel/item")  # lxml refuses malformed XML
    assert item is not None
    for tag in ("title", "description"):
        assert only_text(item.findtext(tag) or "") == shown, tag
    entry = feedparser.parse(served.content).entries[0]
    assert entry.summary_detail.type == "text/html"
    assert only_text(entry.summary) == only_text(entry.title) == shown.strip()


def only_text(html: str) -> str:
    """The text of an HTML fragment, which must hold no element at all."""
    fragment = lxml.html.fragment_fromstring(html, create_parent="p")
    assert len(fragment) == 0, html
    return str(fragment.text_content())


def article(index: int, url: str, summary: str = "Résumé.") -> Article:
    when = datetime(2026, 11, 20, tzinfo=UTC)
    return Article(
        id=index,
        feed_name="f",
        guid=str(index),
        url=url,
        title=f"Titre {index}",
        summary=summary,
        content_html="",
        image_url=None,
        author=None,
        published_at=when,
        collected_at=when,
    )


def test_checks_flag_missing_summary_broken_and_duplicate_links() -> None:
    """Items without summary, non-web links and the same article twice are reported."""
    items = (
        IssueItem(article(1, "https://ex.fr/a/"), 0),
        IssueItem(article(2, "https://EX.fr/a#haut"), 1),
        IssueItem(article(3, "ftp://ex.fr/b"), 2),
        IssueItem(article(4, "https://ex.fr/c"), 3, summary=""),
    )
    issue = Issue(1, 1, IssueState.DRAFT, "s", "", "", datetime(2026, 1, 1, tzinfo=UTC))
    kinds = [alert.kind for alert in check_issue(replace(issue, items=items), None)]
    assert sorted(kinds) == ["duplicate", "link", "summary"]


def test_html_checks_flag_images_without_alt_and_bad_links() -> None:
    """Images lacking alt (tracking pixels aside) and javascript:/relative links are reported;
    a clean email gives nothing."""
    clean = '<p><img src="https://x/i.jpg" alt=""><a href="https://x/">x</a></p>'
    assert check_html(clean) == []
    dirty = (
        '<img src="https://x/i.jpg"><img src="https://x/p.gif" width="1" height="1">'
        '<a href="javascript:alert(1)">x</a><a href="/relative">y</a>'
    )
    alerts = check_html(dirty)
    assert [a.kind for a in alerts] == ["alt", "link", "link"]
    assert "1 image(s)" in alerts[0].message
    big = "<p>" + "x" * 103_000 + "</p>"
    assert [a.kind for a in check_html(big)] == ["size"]


def test_weeks_run_monday_to_monday_in_the_newsletter_zone() -> None:
    """The chart's weeks start on Monday (Paris) and the last one ends now."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    found = weeks(now, "Europe/Paris", 3)
    assert [start for start, _ in found] == [
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
    ]
    assert found[0][1] == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert found[-1][1] == now


def test_growth_chart_is_escaped_svg() -> None:
    """The chart is an SVG with one point per week and an accessible label."""
    svg = growth_svg([(date(2026, 11, 2), 10), (date(2026, 11, 9), 15), (date(2026, 11, 16), 12)])
    assert svg.startswith("<svg") and svg.count("<circle") == 3
    assert 'role="img"' in svg and "de 10" in svg and "à 12" in svg
    assert growth_svg([]) == ""


def test_active_subscribers_over_time(services: Services, clock: FrozenClock) -> None:
    """A subscriber counts from confirmation until unsubscribing; pending ones never count."""
    start = clock()
    store = services.store
    early, _ = store.subscribers.add("a@x.org", None, SubscriberStatus.ACTIVE, start)
    store.subscribers.add("b@x.org", None, SubscriberStatus.ACTIVE, start + timedelta(days=7))
    store.subscribers.add("c@x.org", None, SubscriberStatus.PENDING, start)
    store.subscribers.set_status(
        early.id, SubscriberStatus.UNSUBSCRIBED, start + timedelta(days=10)
    )
    moments = [
        start - timedelta(days=1),
        start + timedelta(days=1),
        start + timedelta(days=8),
        start + timedelta(days=11),
    ]
    assert DeskQueries(store.engine).active_at(moments) == [0, 1, 2, 1]
