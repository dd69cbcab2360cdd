"""Following a copy's link to an article: the /c/{token} redirect, and provider clicks.

The token is signed and names the delivery and the article; the redirect goes to that article's
link only if the article is one of the delivery's issue, so no token can send a reader anywhere
else (never an open redirect). Every click is recorded; figures count each reader once per link
for unique clicks (newsletter.store.clicks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from newsletter.domain.clock import Clock
from newsletter.domain.delivery import ProviderEvent
from newsletter.domain.errors import TokenError
from newsletter.domain.links import http_url
from newsletter.domain.tokens import TokenSigner
from newsletter.store.clicks import LINK, ClickRepository


@dataclass(frozen=True)
class ClickLinks:
    """What following a click link needs."""

    clicks: ClickRepository
    signer: Callable[[], TokenSigner]
    clock: Clock
    # The article's link as readers get it (UTM parameters added): render.renderer.article_url.
    article_url: Callable[[str, int], str | None]


def follow(links: ClickLinks, token: str) -> str:
    """Record the click and give the URL to redirect to. TokenError for a forged token or one
    naming an article that is not in its delivery's issue."""
    delivery_id, article_id = links.signer().verify_click(token)
    target = links.clicks.target(delivery_id, article_id)
    url = http_url(target.url) if target else None
    if target is None or url is None:
        raise TokenError("this link is invalid or has been altered")
    links.clicks.record(target, delivery_id, article_id, LINK, links.clock())
    return links.article_url(url, target.number) or url


def with_article(event: ProviderEvent, signer: TokenSigner, base_url: str) -> ProviderEvent:
    """A provider's click event on one of our /c/ links, with the article its token names (a
    token that does not check out names nothing)."""
    prefix = f"{base_url.rstrip('/')}/c/"
    if event.kind != "click" or not event.url or not event.url.startswith(prefix):
        return event
    try:
        _delivery_id, article_id = signer.verify_click(event.url[len(prefix) :].split("?")[0])
    except TokenError:
        return event
    return replace(event, article_id=article_id)
