"""Placeholder injection from feed content, performed end to end: a loopback feed server serves
an item whose link, image URL, title and summary spell the personalisation placeholders; it is
collected, drafted and sent (file provider, SendGrid request, a test copy). No reader's link
token or name may appear where the attacker put a placeholder."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver import sender_of
from newsletter.deliver.file import FileProvider
from newsletter.deliver.sendgrid import SendgridProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import curation, wiring
from newsletter.runtime.collection import collect
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests import feedserver
from tests.conftest import shared_path
from tests.feedserver import FeedServer
from tests.mail_checks import parsed
from tests.sendgrid_server import API_KEY, SendgridServer

pytestmark = pytest.mark.integration

GUESSES = "%%unsubscribe_url%% %%name%% %%name_html%% %%unsubscribe_url_%%"
READER_NAME = "Zoé Secrète"
EVIL = "https://evil.example"


def hostile_feed() -> bytes:
    """One item spelling the placeholders everywhere an article's text or URLs go."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Evil</title><link>{EVIL}/</link>
<item>
<title>Gagnez {GUESSES}</title>
<link>{EVIL}/article?u=%%unsubscribe_url%%&amp;n=%%name%%</link>
<guid>{EVIL}/article-1</guid>
<pubDate>Mon, 23 Nov 2026 06:00:00 +0100</pubDate>
<description>Résumé {GUESSES}</description>
<media:content url="{EVIL}/img.png?u=%%unsubscribe_url%%" medium="image" width="600"
 height="400"/>
</item></channel></rss>""".encode()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feedserver.running() as running:
        yield running


@pytest.fixture
def hostile(
    feeds: FeedServer, make_config: Callable[..., Any], clock: FrozenClock
) -> Iterator[tuple[Services, int]]:
    """Services whose one feed is the hostile one, collected and drafted, with one reader."""
    url = feeds.add("/evil.xml", feedserver.serve(hostile_feed()))
    config = make_config(feeds=f'[[feeds]]\nname = "evil"\nurl = "{url}"\n')
    services = wiring.build(config, clock=clock)
    services.store.migrate()
    report = collect(services)
    assert report.new_articles == 1, report
    drafted = curation.draft(services)
    assert drafted.issue is not None, drafted.reason
    services.store.subscribers.add(
        "zoe@example.org", READER_NAME, SubscriberStatus.ACTIVE, services.clock()
    )
    yield services, drafted.issue.id
    services.close()


def assert_not_injected(html: str, text: str, token: str) -> None:
    """The reader's token only in the real unsubscribe and preferences links; the name
    nowhere (the digest does not show it); the attacker's text shown as written."""
    for value in re.findall(r'(?:href|src)="([^"]*)"', html):
        if token in value:
            assert re.search(rf"/(unsubscribe|preferences)/{re.escape(token)}$", value), value
        if value.startswith(EVIL):
            assert token not in value and "unsubscribe/" not in value, value
            assert "preferences/" not in value, value
    for part in (html, text):
        links = part.count(f"/unsubscribe/{token}") + part.count(f"/preferences/{token}")
        assert part.count(token) == links
    assert READER_NAME not in html and "Zoé" not in text
    assert "%%unsubscribe_url%%" in text and "%%name%%" in text  # shown, never filled


def test_file_copies_and_test_copy_keep_feed_placeholders_inert(
    hostile: tuple[Services, int], tmp_path: Path
) -> None:
    """The digest .eml and the editors' test copy: placeholders from the feed stay text."""
    services, issue_id = hostile
    outbox = tmp_path / "sent"
    services._provider = FileProvider(sender=sender_of(services.config), outbox=outbox)

    assert send_issue(services, issue_id, sleep=lambda _s: None).sent == 1
    (path,) = outbox.glob("*.eml")
    message = parsed(path.read_bytes())
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html, text = html_part.get_content(), text_part.get_content()
    token = message["List-Unsubscribe"].rstrip(">").rpartition("/")[2]
    assert f'href="https://news.example.org/unsubscribe/{token}"' in html
    assert_not_injected(html, text, token)

    curation.send_test(services, issue_id, "editor@example.org")
    (test_path,) = [p for p in outbox.glob("*.eml") if p != path]
    test_copy = parsed(test_path.read_bytes())
    test_html = test_copy.get_body(("html",))
    test_text = test_copy.get_body(("plain",))
    assert test_html is not None and test_text is not None
    assert_not_injected(test_html.get_content(), test_text.get_content(), "test")


def test_sendgrid_substitutions_never_match_feed_text(hostile: tuple[Services, int]) -> None:
    """The SendGrid request: substitution keys are this render's placeholders, so SendGrid
    filling them in (simulated here on the accepted body) leaves the feed's text alone."""
    services, issue_id = hostile
    server = SendgridServer(shared_path("sendgrid", "tsg_mail_v3.json")).start()
    try:
        services._provider = SendgridProvider(
            sender=sender_of(services.config), api_key=API_KEY, host=server.url, timeout=5
        )
        assert send_issue(services, issue_id, sleep=lambda _s: None).sent == 1
    finally:
        server.stop()
    assert server.invalid == []
    (request,) = server.accepted
    body = request.body
    assert body is not None
    (personalization,) = body["personalizations"]
    substitutions = personalization["substitutions"]
    for key in substitutions:
        assert key not in hostile_feed().decode()
    text, html = (part["value"] for part in body["content"])
    for key, value in substitutions.items():  # what SendGrid does with the request
        text, html = text.replace(key, value), html.replace(key, value)
    token = substitutions[next(k for k in substitutions if "unsubscribe_url" in k)]
    assert_not_injected(html, text, token.rpartition("/")[2])
