"""Search that fits French: accents and case ignored in the inbox and among subscribers, on
SQLite and PostgreSQL alike; the query's LIKE wildcards stay literal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsletter.domain.french import fold
from newsletter.domain.model import ArticleDraft, FeedSource
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.wiring import Services
from newsletter.store.articles import ArticleRepository
from newsletter.store.desk import DeskQueries

TITLES = ["L’écosystème des start-up", "Ça bouge à Besançon", "100% remote", "Rien à voir"]


def _articles(services: Services) -> ArticleRepository:
    store, now = services.store, services.clock()
    store.feeds.sync([FeedSource("maddyness", "https://www.maddyness.com/feed/", "Tech")])
    for index, title in enumerate(TITLES):
        draft = ArticleDraft(
            feed_name="maddyness",
            guid=f"g{index}",
            url=f"https://example.fr/{index}",
            title=title,
            summary="",
            content_html="",
            image_url=None,
            author=None,
            published_at=now - timedelta(hours=index),
        )
        store.articles.add(store.feeds.id_of("maddyness"), [draft], now)
    return store.articles


def _titles(found: ArticleRepository, q: str) -> list[str]:
    """The inbox's search: the titles of the articles `matching` finds, newest first."""
    ids = found.matching(q, 100)
    return [article.title for article in found.recent() if article.id in ids]


@pytest.mark.parametrize("q", ["écosystème", "ecosysteme", "ÉCOSYSTÈME", "Ecosystéme", "l'ecosys"])
def test_inbox_search_ignores_accents_and_case(services: Services, q: str) -> None:
    assert _titles(_articles(services), q) == ["L’écosystème des start-up"]


def test_inbox_search_folds_capital_cedilla_and_keeps_wildcards_literal(
    services: Services,
) -> None:
    queries = _articles(services)
    assert _titles(queries, "ca bouge a besancon") == ["Ça bouge à Besançon"]
    assert _titles(queries, "%") == ["100% remote"]
    assert _titles(queries, "_") == []


def test_subscriber_search_ignores_accents_and_case(services: Services) -> None:
    now = services.clock()
    services.store.subscribers.add(
        "helene@example.org", "Hélène Lefèvre", SubscriberStatus.ACTIVE, now
    )
    services.store.subscribers.add("jean@example.org", "Jean Dupont", SubscriberStatus.ACTIVE, now)
    queries = DeskQueries(services.store.engine)
    for q in ("helene", "HÉLÈNE", "lefevre"):
        found, total = queries.subscribers(q, None)
        assert [s.email for s in found] == ["helene@example.org"], q
        assert total == 1


def test_fold() -> None:
    assert fold("Écosystème ÇA") == "ecosysteme ca"
    assert fold("Cœur") == "coeur"


def test_archive_search_ignores_accents_and_case(services: Services) -> None:
    from newsletter.curate import issues as issue_cases
    from newsletter.runtime import jobs
    from tests.desk_support import client_for, newsroom

    issue = newsroom(services, articles=2, subscribers=1)
    services.store.issues.update_content(issue.id, subject="L’Écosystème de la semaine")
    issue_cases.send_now(services.store.issues, issue.id, services.clock())
    jobs.dispatch_due(services)
    client = client_for(services)
    for q in ("ecosysteme", "ÉCOSYSTÈME"):
        page = client.get("/archive", params={"q": q})
        assert page.status_code == 200 and "L’Écosystème de la semaine" in page.text, q
    missing = client.get("/archive", params={"q": "introuvable"}).text
    assert "L’Écosystème de la semaine" not in missing and "Aucun numéro ne mentionne" in missing
    hostile = client.get("/archive", params={"q": "eco\x00%_"})
    assert hostile.status_code == 200 and "L’Écosystème" not in hostile.text
