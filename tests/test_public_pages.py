"""The newsletter's public face over HTTP: every page wears the `[theme]` (a non-default
colour, logo and fonts set in the test config show up), every sign-up error is in French in
the project's own words, the thanks and confirmation pages lead to the archive and the latest
issue, the unsubscribe page names the address masked and says when it is done, and the archive
is its own web page (tags for link previews, sign-up box, previous/next) listing lead stories."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import lxml.html
import pytest
from fastapi.testclient import TestClient

from newsletter.audience.addresses import mask_address
from newsletter.curate.issues import send_now
from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import Issue, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import CONFIRM, UNSUBSCRIBE
from newsletter.runtime import curation, jobs, wiring
from newsletter.runtime.config import Config
from newsletter.runtime.wiring import Services
from tests.desk_support import client_for, newsroom

BRAND = "#0a7d5c"
LOGO = "https://cdn.example.org/logo-maddy.png"
THEME = f"""
[theme]
brand_color = "{BRAND}"
logo_url = "{LOGO}"
font_family = "Avenir, Helvetica, sans-serif"
heading_font_family = "'Playfair Display', Georgia, serif"

[subscribe]
refuse_role_addresses = true
refuse_disposable = true
"""


@pytest.fixture
def themed(make_config: Callable[..., Config], clock: FrozenClock) -> Iterator[Services]:
    config = make_config(THEME)
    built = wiring.build(config, clock=clock, provider=MemoryProvider(sender=sender_of(config)))
    built.store.migrate()
    yield built
    built.close()


def send(services: Services, issue: Issue | None = None) -> Issue:
    """Send `issue`, else a new draft (the first time, of a newsroom's articles)."""
    if issue is None and not services.store.issues.all():
        issue = newsroom(services, subscribers=2)
    if issue is None:
        issue = curation.draft(services).issue
        assert issue is not None
    send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    sent = services.store.issues.get(issue.id)
    assert sent is not None and sent.state is IssueState.SENT
    return sent


def wears_theme(html: str) -> None:
    assert f"background: {BRAND}" in html
    assert "Avenir, Helvetica, sans-serif" in html and "'Playfair Display'" in html
    page = lxml.html.fromstring(html)
    assert page.xpath(f'//header//img[@src="{LOGO}"][@alt="MaddyNews"]')
    assert "#0b57d0" not in html and "system-ui" not in html  # the generic look is gone


def form(client: TestClient, email: str, name: str = "") -> tuple[int, str]:
    answer = client.post(
        "/subscribe", data={"email": email, "name": name}, headers={"Accept": "text/html"}
    )
    return answer.status_code, answer.text


def test_every_public_page_wears_the_theme(themed: Services) -> None:
    """Sign-up, thanks, confirmation, confirmed, unsubscribe, unsubscribed, the archive and an
    issue: brand colour on the header and buttons, the logo, the theme's fonts."""
    issue = send(themed)
    client = client_for(themed)
    now = themed.clock()
    reader = themed.store.subscribers.by_email("lecteur0@example.org")
    pending, _ = themed.store.subscribers.add(
        "attente@example.org", None, SubscriberStatus.PENDING, now
    )
    assert reader is not None
    unsubscribe = f"/unsubscribe/{themed.signer.sign(UNSUBSCRIBE, reader.id, now)}"
    confirm = f"/confirm/{themed.signer.sign(CONFIRM, pending.id, now)}"
    pages = [
        client.get("/subscribe").text,
        form(client, "nouvelle@example.org")[1],
        client.get(confirm).text,
        client.post(confirm).text,
        client.get(unsubscribe).text,
        client.post(unsubscribe).text,
        client.get("/archive").text,
        client.get(f"/archive/{issue.id}").text,
    ]
    for html in pages:
        wears_theme(html)


@pytest.mark.parametrize(
    ("email", "name", "expected"),
    [
        ("jean.dupont@", "", "Il manque la fin de l’adresse, après le « @ »"),
        ("jean.dupont", "", "Il manque le « @ »"),
        ("@exemple.fr", "", "Il manque le début de l’adresse"),
        ("jean dupont@exemple.fr", "", "La partie avant le « @ » contient des caractères"),
        ("zoé@exemple.fr", "", "Les accents et autres lettres non latines ne sont pas acceptés"),
        ("jean@exemple", "", "La partie après le « @ » n’est pas un nom de domaine"),
        ("jean@@exemple.fr", "", "La partie après le « @ » n’est pas un nom de domaine"),
        ("  ", "", "Une adresse e-mail est nécessaire"),
        ("a" * 330 + "@exemple.fr", "", "320 caractères au plus"),
        ("jean\u0007@exemple.fr", "", "ni de caractère de contrôle"),
        ("contact@exemple.fr", "", "Les adresses partagées"),
        ("jean@yopmail.com", "", "Les adresses jetables"),
        ("jean@exemple.fr", "Jean\nDupont", "Le prénom doit tenir sur une ligne"),
        ("jean@exemple.fr", "Jean\u0007", "Le prénom ne peut pas contenir de caractère"),
    ],
)
def test_every_sign_up_error_is_in_french(
    themed: Services, email: str, name: str, expected: str
) -> None:
    """The page and the JSON answer say it in the project's words: no English from the
    address library ("There must be something after the @-sign") ever reaches a reader."""
    client = client_for(themed)
    status, html = form(client, email, name)
    assert status == 422
    alert = lxml.html.fromstring(html).xpath('//*[@role="alert"]')[0].text_content()
    assert expected in alert.replace("\u202f", " ").replace("\u00a0", " ")
    api = client.post("/subscribe", json={"email": email, "name": name})
    assert api.status_code == 422
    assert api.json()["detail"] == alert
    for english in ("must", "There", "valid email", "address", "@-sign"):
        assert english not in alert, alert


def test_thanks_and_confirmation_lead_to_the_archive_and_the_latest_issue(
    themed: Services,
) -> None:
    """Both pages link to /archive and to the newest sent issue, by its subject."""
    issue = send(themed)
    client = client_for(themed)
    pending, _ = themed.store.subscribers.add(
        "attente@example.org", None, SubscriberStatus.PENDING, themed.clock()
    )
    confirm = f"/confirm/{themed.signer.sign(CONFIRM, pending.id, themed.clock())}"
    for html in (form(client, "nouvelle@example.org")[1], client.post(confirm).text):
        page = lxml.html.fromstring(html)
        links = {a.get("href"): a.text_content() for a in page.xpath("//main//a")}
        assert links["/archive"] == "Lire les numéros déjà parus"
        assert links[f"/archive/{issue.id}"] == f"Lire le dernier numéro : {issue.subject}"


def test_unsubscribe_names_the_address_masked_and_says_when_done(themed: Services) -> None:
    """Before: the masked address and one button. After: it says the address is off the list
    and offers to come back, never the button again (nor on a second visit)."""
    newsroom(themed, subscribers=1)
    reader = themed.store.subscribers.by_email("lecteur0@example.org")
    assert reader is not None
    client = client_for(themed)
    link = f"/unsubscribe/{themed.signer.sign(UNSUBSCRIBE, reader.id, themed.clock())}"
    before = client.get(link).text
    button = lxml.html.fromstring(before).xpath(f'//form[@method="post"][@action="{link}"]')
    assert button[0].xpath('.//input[@name="List-Unsubscribe"]/@value') == ["One-Click"]
    assert "Adresse concernée : l•••0@example.org" in before
    assert "lecteur0@example.org" not in before and "Me désinscrire" in before
    for after in (client.post(link).text, client.get(link).text):
        assert "L’adresse l•••0@example.org est désinscrite" in after
        assert "Me désinscrire" not in after and 'href="/subscribe"' in after
    assert themed.store.subscribers.get(reader.id).status is SubscriberStatus.UNSUBSCRIBED  # type: ignore[union-attr]


def test_mask_address() -> None:
    """Enough for the owner to recognise, not enough to read."""
    assert mask_address("jean.dupont@exemple.fr") == "j•••t@exemple.fr"
    assert mask_address("jo@exemple.fr") == "j•••@exemple.fr"
    assert mask_address("j@exemple.fr") == "j•••@exemple.fr"


def meta(page: lxml.html.HtmlElement, key: str) -> str:
    found = page.xpath(f'//meta[@property="{key}" or @name="{key}"]/@content')
    assert found, key
    return str(found[0])


def test_archive_issue_is_a_web_page_with_tags_and_a_sign_up_box(themed: Services) -> None:
    """Own template: no "version en ligne", no subscriber-only words, Open Graph and Twitter
    tags, canonical URL, back link, sign-up form (honeypot included), previous/next."""
    first = send(themed)
    newsroom_more(themed)
    second = send(themed)
    client = client_for(themed)
    html = client.get(f"/archive/{first.id}").text
    page = lxml.html.fromstring(html)
    canonical = f"https://news.example.org/archive/{first.id}"
    assert page.xpath('//link[@rel="canonical"]/@href') == [canonical]
    assert meta(page, "og:url") == canonical and meta(page, "og:type") == "article"
    assert meta(page, "og:title") == first.subject == meta(page, "twitter:title")
    lead = sorted(first.items, key=lambda i: i.position)[0].article
    assert meta(page, "og:image") == lead.image_url == meta(page, "twitter:image")
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "og:description") == first.preheader
    text = page.text_content()
    for email_only in ("version en ligne", "abonné·e", "Se désinscrire", "%%"):
        assert email_only.lower() not in text.lower(), email_only
    assert page.xpath('//a[@href="/archive"][contains(., "Tous les numéros")]')
    signup = page.xpath('//form[@action="/subscribe"]')[0]
    assert signup.xpath('.//input[@name="email"]') and signup.xpath('.//input[@name="website"]')
    assert page.xpath(f'//a[@rel="next"][@href="/archive/{second.id}"]')
    assert not page.xpath('//a[@rel="prev"]')
    newer = lxml.html.fromstring(client.get(f"/archive/{second.id}").text)
    assert newer.xpath(f'//a[@rel="prev"][@href="/archive/{first.id}"]')
    for item in first.items:
        assert item.article.source_name in text


def newsroom_more(services: Services) -> None:
    """Two more articles, so a second issue can be drafted."""
    from datetime import timedelta

    from newsletter.domain.model import ArticleDraft

    store = services.store
    now = services.clock()
    for index in (10, 11):
        draft = ArticleDraft(
            feed_name="maddyness",
            guid=f"more{index}",
            url=f"https://www.maddyness.example.fr/suite-{index}/",
            title=f"Deuxième numéro, article {index}",
            summary="Un autre résumé.",
            content_html="<p>x</p>",
            image_url=None,
            author=None,
            published_at=now - timedelta(minutes=index),
        )
        store.articles.add(store.feeds.id_of("maddyness"), [draft], now)


def test_archive_lists_issues_with_their_lead_story(themed: Services) -> None:
    """/archive lists each sent issue, newest first, with the title of its lead story."""
    issue = send(themed)
    lead = sorted(issue.items, key=lambda i: i.position)[0].display_title
    html = client_for(themed).get("/archive").text
    page = lxml.html.fromstring(html)
    entry = page.xpath(f'//li[a[@href="/archive/{issue.id}"]]')[0]
    assert re.sub(r"\s+", " ", entry.text_content()).count(lead) == 1
    assert "À la une : " in entry.text_content()
    assert page.xpath('//link[@rel="canonical"]/@href') == ["https://news.example.org/archive"]
    assert meta(page, "og:url") == "https://news.example.org/archive"
    assert meta(page, "og:type") == "website" and meta(page, "og:title")
    assert page.xpath('//link[@rel="alternate"][@type="application/rss+xml"]/@href') == [
        "/archive/feed.xml"
    ]


HOSTILE_TITLE = "<script>alert('t')</script>\"><img src=x onerror=alert(1)>"


def test_archive_pages_show_hostile_feed_data_as_text(themed: Services) -> None:
    """A feed's title, link and image trying script, handlers and javascript: URLs: the issue
    page and the list show the title as text (in the preview tags too) and link nothing."""
    from datetime import timedelta

    from newsletter.domain.model import ArticleDraft, FeedSource

    store = themed.store
    now = themed.clock()
    store.feeds.sync([FeedSource("evil", "https://evil.example.org/feed", "À la une")])
    store.articles.add(
        store.feeds.id_of("evil"),
        [
            ArticleDraft(
                feed_name="evil",
                guid="x",
                url="javascript:alert(2)",
                title=HOSTILE_TITLE,
                summary="</textarea><script>alert(4)</script>",
                content_html="<p>x</p>",
                image_url="javascript:alert(3)",
                author=None,
                published_at=now - timedelta(hours=1),
            )
        ],
        now,
    )
    store.subscribers.add("lecteur@example.org", None, SubscriberStatus.ACTIVE, now)
    drafted = curation.draft(themed).issue
    assert drafted is not None and len(drafted.items) == 1
    issue = send(themed, drafted)
    client = client_for(themed)
    for path in (f"/archive/{issue.id}", "/archive"):
        html = client.get(path).text
        page = lxml.html.fromstring(html)
        assert not page.xpath("//script"), path
        for element in page.iter():
            if not isinstance(element.tag, str):
                continue
            assert not [a for a in element.attrib if a.lower().startswith("on")], path
            for attribute in ("href", "src", "content", "action"):
                assert not (element.get(attribute) or "").lower().startswith("javascript:")
        assert HOSTILE_TITLE in page.text_content(), path
    page = lxml.html.fromstring(client.get(f"/archive/{issue.id}").text)
    assert meta(page, "og:description") == HOSTILE_TITLE  # the preheader: the lead's title
    assert not page.xpath('//meta[@property="og:image"]')
