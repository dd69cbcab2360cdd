"""Click insight: the /c/{token} redirect, SendGrid clicks merged, `issue status --json`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.deliver import sender_of
from newsletter.deliver.clicks import with_article
from newsletter.deliver.events import apply_events, read_events
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import ArticleDraft
from newsletter.domain.tokens import UNSUBSCRIBE
from newsletter.runtime import wiring
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from newsletter.store.clicks import merge_sources
from tests.desk_support import client_for
from tests.readers_support import (
    SECTIONS_TOML,
    bulk_readers,
    copy_links,
    make_sectioned_issue,
    memory,
    readers,
    sent_issue,
)

__all__ = ["readers"]

TECH = "https://example.org/tech"


def _status(services: Services, issue_id: int) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        ["issue", "status", str(issue_id), "--json", "--config", str(services.config.path)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_click_redirects_to_the_article_and_counts(readers: Services) -> None:
    """A copy's link answers 302 to its article (UTM added); clicks count, unique once per
    reader per link."""
    issue_id = sent_issue(readers)
    client = client_for(readers)
    first = copy_links(readers, "r0@example.org")
    answer = client.get(first[0].removeprefix("https://news.example.org"))
    assert answer.status_code == 302
    assert answer.headers["location"].startswith(TECH + "?utm_source=newsletter")
    client.get(first[0].removeprefix("https://news.example.org"))
    other = copy_links(readers, "r1@example.org")
    assert other[0] != first[0]  # each copy its own link
    client.get(other[0].removeprefix("https://news.example.org"))
    status = _status(readers, issue_id)
    assert (status["clicks"], status["unique_clicks"]) == (3, 2)
    tech = next(link for link in status["links"] if link["url"] == TECH)
    assert (tech["clicks"], tech["unique_clicks"]) == (3, 2)
    climat = next(link for link in status["links"] if link["url"] != TECH)
    assert (climat["clicks"], climat["unique_clicks"]) == (0, 0)
    for key in ("opens", "unsubscribed", "bounced", "complained"):
        assert status[key] == 0
    assert status["events"] is False and status["rates"]["open"] is None
    assert status["rates"]["click"] == 1.0


def test_tampered_and_foreign_click_tokens_get_a_400_page(readers: Services) -> None:
    """A changed token, a token naming an article of another issue, a token of another
    purpose: a 400 page, never a redirect, nothing counted."""
    issue_id = sent_issue(readers, 1)
    client = client_for(readers)
    path = copy_links(readers, "r0@example.org")[0].removeprefix("https://news.example.org")
    body, _, signature = path.removeprefix("/c/").partition(".")
    tampered = f"/c/{body[:-2]}AA.{signature}"
    store = readers.store
    foreign = ArticleDraft(
        "f", "evil", "https://evil.example.com/", "Ailleurs", "", "", None, None, None
    )
    store.articles.add(store.feeds.id_of("f"), [foreign], readers.clock())
    (evil,) = [a.id for a in store.articles.recent() if a.url == "https://evil.example.com/"]
    delivery_id = readers.signer.verify_click(path.removeprefix("/c/"))[0]
    foreign_link = readers.signer.sign_click(delivery_id, evil)  # signed, but not in the issue
    unknown_article = readers.signer.sign_click(delivery_id, 10_000)
    unsubscribe = readers.signer.sign(UNSUBSCRIBE, 1, readers.clock())
    bad_links = (tampered, f"/c/{foreign_link}", f"/c/{unknown_article}", f"/c/{unsubscribe}")
    for bad in (*bad_links, "/c/x.y", "/c/%C3%A9"):
        answer = client.get(bad)
        assert answer.status_code == 400, bad
        assert "location" not in answer.headers
        assert "<html" in answer.text.lower()
    assert _status(readers, issue_id)["clicks"] == 0


def test_sendgrid_clicks_merge_without_double_counting(readers: Services) -> None:
    """With SendGrid's click tracking on, one click reaches both SendGrid and /c/: counted
    once. A SendGrid click our links missed still counts; one on a URL outside the issue not."""
    issue_id = sent_issue(readers)
    client = client_for(readers)
    mine = copy_links(readers, "r0@example.org")[0]
    client.get(mine.removeprefix("https://news.example.org"))
    deliveries = {copy.recipient.email: copy.recipient.delivery_id for copy in memory(readers).sent}

    def event(n: int, email: str, url: str) -> dict[str, Any]:
        return {
            "sg_event_id": f"click-{n}",
            "event": "click",
            "email": email,
            "timestamp": 1_790_000_000,
            "url": url,
            "delivery_id": str(deliveries[email]),
            "issue_id": str(issue_id),
        }

    raw = [
        event(1, "r0@example.org", mine),  # the same click as the /c/ hit above
        event(2, "r1@example.org", TECH),  # an untracked link (our /c/ never saw it)
        event(3, "r1@example.org", "https://evil.example.com/"),
        event(1, "r0@example.org", mine),  # a replay
    ]
    events = [
        with_article(e, readers.signer, "https://news.example.org")
        for e in read_events(json.dumps(raw).encode())
    ]
    report = apply_events(readers.store.events, readers.clock, events)
    assert (report.applied, report.duplicates) == (3, 1)
    status = _status(readers, issue_id)
    assert (status["clicks"], status["unique_clicks"]) == (2, 2)
    tech = next(link for link in status["links"] if link["url"] == TECH)
    assert (tech["clicks"], tech["unique_clicks"]) == (2, 2)


def test_merge_takes_the_larger_source_per_reader_and_link() -> None:
    """Two sources seeing the same clicks count once; each reader and link apart."""
    rows = [(1, 9, 5, "link", 2), (1, 9, 5, "sendgrid", 1), (2, 8, 5, "sendgrid", 3)]
    assert merge_sources(rows) == {(1, 5): 2, (2, 5): 3}


def test_without_click_tracking_copies_link_straight_to_articles(
    make_config: Callable[..., Any], clock: FrozenClock
) -> None:
    """`[links] track_clicks = false`: the wiring's render leaves article links direct (UTM
    only), no /c/ link in any copy, and the sign-up form does not mention click counting."""
    config = make_config(extra=SECTIONS_TOML + "\n[links]\ntrack_clicks = false\n")
    services = wiring.build(config, clock=clock, provider=MemoryProvider(sender_of(config)))
    services.store.migrate()
    try:
        issue_id = make_sectioned_issue(services)
        bulk_readers(services, (), 1, 0)
        send_issue(services, issue_id, sleep=lambda _s: None)
        copy = memory(services).to("r0@example.org")[0].copy
        assert "/c/" not in copy.html + copy.text
        assert "https://example.org/tech?utm_source=newsletter" in copy.text
        assert "/preferences/" in copy.text  # the preferences link stays
        form = client_for(services).get("/subscribe").text
        assert "nous comptons" not in form
    finally:
        services.close()


def test_sendgrid_personalizations_carry_each_copys_click_links(readers: Services) -> None:
    """With SendGrid, each personalization substitutes the copy's own signed /c/ links and its
    preferences link for the render's markers (SendGrid fills them in itself)."""
    from newsletter.deliver.segments import CopyLinks
    from newsletter.deliver.sendgrid import SendgridProvider
    from newsletter.domain.delivery import Recipient

    issue_id = make_sectioned_issue(readers)
    issue = readers.store.issues.get(issue_id)
    assert issue is not None
    message = readers.renderer.render_issue(issue, tracked=True)
    links = CopyLinks(signer=lambda: readers.signer, base_url="https://news.example.org")
    unsubscribe = "https://news.example.org/unsubscribe/tok.sig"
    recipients = [
        Recipient(n, n, f"r{n}@example.org", None, unsubscribe, links(n, unsubscribe, message))
        for n in (7, 8)
    ]
    provider = SendgridProvider(sender=sender_of(readers.config), api_key="k")
    payload = provider.payload(message, recipients)
    markers = [item.article.id for item in issue.items]
    for delivery_id, personalization in zip((7, 8), payload["personalizations"], strict=True):
        subs = personalization["substitutions"]
        assert subs[message.placeholders.preferences_url].endswith("/preferences/tok.sig")
        for article_id in markers:
            url = subs[message.placeholders.click(article_id)]
            token = url.removeprefix("https://news.example.org/c/")
            assert readers.signer.verify_click(token) == (delivery_id, article_id)
    shared = json.dumps(payload["content"])
    assert message.placeholders.click(markers[0]) in shared and "/c/" not in shared
