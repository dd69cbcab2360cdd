"""Sending as the command line and the scheduler call it: the wiring's dependencies, narrowed.

newsletter.deliver.send takes the delivery and issue repositories, a lazily built provider, the
render, the unsubscribe-URL function, the clock and the shutdown flag; this is the one place that
picks them out of the Services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

from newsletter.deliver import sender_of
from newsletter.deliver.dry_run import DryRun
from newsletter.deliver.dry_run import dry_run as build_dry_run
from newsletter.deliver.segments import CopyLinks
from newsletter.deliver.send import Render, Sending, SendOptions
from newsletter.deliver.send import send_issue as send
from newsletter.domain.delivery import DeliveryCounts, RenderedMessage
from newsletter.domain.model import Issue
from newsletter.runtime.curation import unsubscribe_urls
from newsletter.runtime.wiring import Services


def send_issue(
    services: Services,
    issue_id: int,
    *,
    render: Render | None = None,
    **options: Unpack[SendOptions],
) -> DeliveryCounts:
    """newsletter.deliver.send.send_issue with the wiring's dependencies; `render` defaults to
    the wiring's renderer, `options` are send_issue's own."""
    sending = Sending(
        deliveries=services.store.deliveries,
        issues=services.store.issues,
        provider=lambda: services.provider,
        render=render or renderer_of(services),
        unsubscribe_url=_unsubscribe_urls_of(services),
        clock=services.clock,
        stopping=services.stopping,
        copy_values=CopyLinks(
            signer=lambda: services.signer, base_url=services.config.settings.newsletter.base_url
        ),
    )
    return send(sending, issue_id, **options)


def dry_run(services: Services, issue_id: int, *, render: Render | None = None) -> DryRun:
    """newsletter.deliver.dry_run.dry_run with the wiring's dependencies."""
    store = services.store
    return build_dry_run(
        issue_id,
        issues=store.issues,
        deliveries=store.deliveries,
        subscribers=store.subscribers,
        render=render or renderer_of(services),
        unsubscribe_url=_unsubscribe_urls_of(services),
        sender=sender_of(services.config),
    )


def renderer_of(services: Services) -> Render:
    """The wiring's renderer as sending uses it (article links tracked when `[links]
    track_clicks`), built only when a render is needed (premailer loads then)."""

    def render(issue: Issue) -> RenderedMessage:
        tracked = services.config.settings.links.track_clicks
        return services.renderer.render_issue(issue, tracked=tracked)

    return render


def _unsubscribe_urls_of(services: Services) -> Callable[[int], str]:
    """unsubscribe_urls, looked up at the first recipient: the signer's key (written to the data
    folder the first time) is not touched by a send refused before it mails anyone."""
    built: list[Callable[[int], str]] = []

    def url(subscriber_id: int) -> str:
        if not built:
            built.append(unsubscribe_urls(services))
        return built[0](subscriber_id)

    return url
