"""Helpers of the readers' tests: a newsletter with sections, an issue with an article in each."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import RenderedMessage
from newsletter.domain.model import ArticleDraft, FeedSource, Issue
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.segments import segment_key
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from newsletter.store import reader_tables
from newsletter.store.issues import NewItem

CLICK = re.compile(r"https://news\.example\.org/c/[A-Za-z0-9_.-]+")

SECTIONS_TOML = """
[[sections]]
name = "Tech"
keywords = ["logiciel"]

[[sections]]
name = "Climat"
keywords = ["carbone"]

[[sections]]
name = "Sport"
keywords = ["match"]
"""

# The issue's articles: (section, url, title). Nothing in "Sport".
ARTICLES = (
    ("Tech", "https://example.org/tech", "Un logiciel libre lève 3 M€"),
    ("Climat", "https://example.org/climat", "Le carbone capturé à Lyon"),
)


@pytest.fixture
def readers(
    make_config: Callable[..., config_module.Config], clock: FrozenClock
) -> Iterator[Services]:
    """Services with three sections ([[sections]] rules), the memory provider (batches of 3)."""
    config = make_config(extra=SECTIONS_TOML)
    provider = MemoryProvider(sender=sender_of(config), batch_size=3)
    built = wiring.build(config, clock=clock, provider=provider)
    built.store.migrate()
    yield built
    built.close()


def make_sectioned_issue(services: Services) -> int:
    """A draft issue with one article in "Tech" and one in "Climat"; returns its id."""
    store = services.store
    now = services.clock()
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    drafts = [
        ArticleDraft(
            feed_name="f",
            guid=url,
            url=url,
            title=title,
            summary=f"Résumé de {section}",
            content_html="<p>x</p>",
            image_url=None,
            author=None,
            published_at=None,
        )
        for section, url, title in ARTICLES
    ]
    store.articles.add(store.feeds.id_of("f"), drafts, now)
    by_url = {article.url: article.id for article in store.articles.recent()}
    items = [NewItem(by_url[url], section=section) for section, url, _ in ARTICLES]
    return store.issues.create("N°{number}", items, now).id


def bulk_readers(services: Services, sections: tuple[str, ...], count: int, start: int) -> None:
    """`count` active readers r{i}@example.org who chose `sections`, in one statement."""
    now = services.clock()
    rows = [
        {
            "email": f"r{i}@example.org",
            "name": None,
            "status": SubscriberStatus.ACTIVE.value,
            "created_at": now,
            "confirmed_at": now,
            "sections": segment_key(sections) or None,
        }
        for i in range(start, start + count)
    ]
    with services.store.engine.begin() as connection:
        connection.execute(reader_tables.subscribers.insert(), rows)


@dataclass
class CountingRender:
    """The real renderer (click links on), counting its runs and the issues it got."""

    services: Services
    issues: list[Issue] = field(default_factory=list)

    def __call__(self, issue: Issue) -> RenderedMessage:
        self.issues.append(issue)
        return self.services.renderer.render_issue(issue, tracked=True)


def memory(services: Services) -> MemoryProvider:
    provider = services.provider
    inner = getattr(provider, "inner", provider)
    assert isinstance(inner, MemoryProvider)
    return inner


def sent_issue(services: Services, count: int = 2) -> int:
    """An issue sent, with click links, to the readers there are and `count` new readers
    of every section."""
    issue_id = make_sectioned_issue(services)
    if count:
        bulk_readers(services, (), count, 0)
    send_issue(services, issue_id, render=CountingRender(services), sleep=lambda _s: None)
    return issue_id


def copy_links(services: Services, email: str) -> list[str]:
    """The /c/ links of the copy `email` got (the text part has the same)."""
    copy = memory(services).to(email)[0].copy
    html_links = CLICK.findall(copy.html)
    assert html_links and set(CLICK.findall(copy.text)) <= set(html_links)
    return list(dict.fromkeys(html_links))
