"""Helpers of the delivery tests: an issue with subscribers, a render without templates."""

from __future__ import annotations

from collections.abc import Sequence

from newsletter.bootstrap import Services
from newsletter.model import ArticleDraft, FeedSource, Issue, RenderedMessage, SubscriberStatus
from newsletter.store.issues import NewItem

SUBJECT = "Les licornes françaises à l'honneur, %%name%% !"


def fake_render(issue: Issue) -> RenderedMessage:
    """What the renderer produces, reduced to what delivery needs: placeholders in both parts."""
    return RenderedMessage(
        subject=SUBJECT,
        preheader="Levées de fonds de la semaine",
        html=(
            '<html><body><p style="color:#222">Bonjour %%name%%, voici l\'édition '
            f"{issue.number}.</p>"
            '<p><a href="%%unsubscribe_url%%">Se désinscrire</a></p></body></html>'
        ),
        text=f"Bonjour %%name%%, voici l'édition {issue.number}.\n\n"
        "Se désinscrire : %%unsubscribe_url%%\n",
    )


def make_issue(services: Services) -> int:
    """A draft issue holding one article."""
    store = services.store
    now = services.clock()
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    draft = ArticleDraft(
        feed_name="f",
        guid="g1",
        url="https://example.org/1",
        title="Levée de fonds",
        summary="résumé",
        content_html="<p>x</p>",
        image_url=None,
        author=None,
        published_at=None,
    )
    store.articles.add(store.feeds.id_of("f"), [draft], now)
    article = store.articles.recent()[0]
    return store.issues.create("N°{number}", [NewItem(article.id)], now).id


def add_subscribers(
    services: Services, count: int, names: Sequence[str | None] = (), start: int = 0
) -> list[int]:
    """`count` active subscribers u{i}@example.org; returns their ids."""
    ids = []
    for i in range(start, start + count):
        name = names[i - start] if i - start < len(names) else f"Zoé {i}"
        subscriber, _ = services.store.subscribers.add(
            f"u{i}@example.org", name, SubscriberStatus.ACTIVE, services.clock()
        )
        ids.append(subscriber.id)
    return ids
