"""Helpers of the desk tests: a newsroom with feeds, articles, a draft and subscribers, and a
logged-in HTTP client."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from newsletter.curate.editors import add_editor
from newsletter.domain.model import ArticleDraft, FeedSource, Issue
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import curation
from newsletter.runtime.wiring import Services
from newsletter.web import create_app

EDITOR, PASSWORD, EDITOR_EMAIL = "camille", "correct horse battery", "camille@redaction.example"
BASE = "https://news.example.org"

TITLES = [
    "Une start-up lilloise lève 12 millions d’euros",
    "French Tech : le Next40 accueille dix nouveaux membres",
    "L’IA générative au service des PME",
    "Fintech : une néobanque obtient son agrément",
]


def newsroom(services: Services, articles: int = 4, subscribers: int = 3) -> Issue:
    """Two feeds, `articles` collected articles, `subscribers` active subscribers, a draft."""
    store = services.store
    now = services.clock()
    store.feeds.sync(
        [
            FeedSource("maddyness", "https://www.maddyness.com/feed/", "À la une"),
            FeedSource("frenchweb", "https://www.frenchweb.fr/feed", "Tech"),
        ]
    )
    for index in range(articles):
        feed = "maddyness" if index % 2 == 0 else "frenchweb"
        draft = ArticleDraft(
            feed_name=feed,
            guid=f"g{index}",
            url=f"https://www.{feed}.example.fr/article-{index}/",
            title=TITLES[index] if index < len(TITLES) else f"Brève n°{index} de la semaine",
            summary=f"Résumé numéro {index} de l’article.",
            content_html="<p>x</p>",
            image_url=f"https://img.example.fr/{index}.jpg",
            author="Rédaction",
            published_at=now - timedelta(hours=index + 1),
        )
        store.articles.add(store.feeds.id_of(feed), [draft], now)
    for index in range(subscribers):
        store.subscribers.add(
            f"lecteur{index}@example.org", f"Lecteur {index}", SubscriberStatus.ACTIVE, now
        )
    outcome = curation.draft(services)
    assert outcome.issue is not None, outcome.reason
    return outcome.issue


def client_for(services: Services, base_url: str = BASE) -> TestClient:
    return TestClient(create_app(services), base_url=base_url, follow_redirects=False)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def logged_in(services: Services, base_url: str = BASE) -> tuple[TestClient, str]:
    """A client with an editor's session, and the CSRF token of its forms."""
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD, email=EDITOR_EMAIL)
    client = client_for(services, base_url)
    page = client.get("/desk/login")
    response = client.post(
        "/desk/login",
        data={"csrf": csrf_of(page.text), "name": EDITOR, "password": PASSWORD, "next": "/desk"},
    )
    assert response.status_code == 303, response.text
    dashboard = client.get("/desk")
    assert dashboard.status_code == 200, dashboard.text[:500]
    return client, csrf_of(dashboard.text)
