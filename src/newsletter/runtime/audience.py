"""The subscriber use cases and the outbox Mailer as web/, cli/ and the jobs call them: the
wiring's dependencies, narrowed.

newsletter.audience takes the subscriber or outbox repository, the token signer, the clock, the
renderer and provider, and the few settings it reads; this is the one place that picks them out
of the Services.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo

from newsletter.audience.addresses import AddressPolicy
from newsletter.audience.dependencies import Audience, SignupRules
from newsletter.audience.outbox import LatestIssue, MailerParts, MailSettings, RenderEmail
from newsletter.audience.outbox import Mailer as OutboxMailer
from newsletter.deliver.base import Provider
from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.links import article_url
from newsletter.domain.weekly import WeeklyTime
from newsletter.render.subject import fill_subject
from newsletter.render.typography import format_date
from newsletter.runtime.config import Config
from newsletter.runtime.curation import unsubscribe_urls
from newsletter.runtime.wiring import Services


def audience_of(services: Services) -> Audience:
    """What the subscriber use cases need, read from the current configuration."""
    return Audience(
        subscribers=services.store.subscribers,
        signer=lambda: services.signer,
        clock=services.clock,
        rules=signup_rules(services.config),
    )


def signup_rules(config: Config) -> SignupRules:
    """The `[subscribe]` section and the newsletter's time zone as the use cases' rules."""
    section = config.settings.subscribe
    return SignupRules(
        confirm_within=timedelta(days=section.confirm_days),
        purge_pending_after=timedelta(days=section.pending_days),
        resend_after=timedelta(minutes=section.resend_minutes),
        policy=AddressPolicy(
            refuse_role_addresses=section.refuse_role_addresses,
            refuse_disposable=section.refuse_disposable,
            disposable_domains=frozenset(section.disposable_domains),
        ),
        timezone=ZoneInfo(config.settings.newsletter.timezone),
        sections=tuple(config.settings.section_names()),
    )


def outbox_mailer(services: Services, render_email: RenderEmail | None = None) -> OutboxMailer:
    """The outbox Mailer. `render_email` replaces the wiring's renderer (tests); the renderer
    and the provider are looked up when an email goes, so building a Mailer builds neither."""

    def wiring_render(
        kind: str, context: Mapping[str, object], placeholders: Placeholders
    ) -> RenderedMessage:
        return services.renderer.render_email(kind, context, placeholders)

    def provider() -> Provider:
        return services.provider

    settings = services.config.settings
    return OutboxMailer(
        MailerParts(
            outbox=services.store.outbox,
            provider=provider,
            render_email=render_email or wiring_render,
            signer=lambda: services.signer,
            clock=services.clock,
            unsubscribe_url=lambda subscriber_id: unsubscribe_urls(services)(subscriber_id),
            settings=MailSettings(
                newsletter_name=settings.newsletter.name,
                base_url=settings.newsletter.base_url,
                confirm_days=settings.subscribe.confirm_days,
            ),
            latest=lambda: latest_issue(services),
            next_issue=lambda: next_issue(services),
        )
    )


def latest_issue(services: Services) -> LatestIssue | None:
    """The latest sent issue as the welcome email shows it (its stories' own links)."""
    issue = services.store.issues.latest_sent()
    if issue is None:
        return None
    settings = services.config.settings
    newsletter = settings.newsletter
    titles = {feed.name: feed.title for feed in settings.feeds if feed.title}
    stories = tuple(
        (
            item.display_title,
            article_url(item.article.url, issue.number, newsletter.name, settings) or "",
            titles.get(item.article.feed_name, item.article.feed_name),
        )
        for item in sorted(issue.items, key=lambda i: i.position)
    )
    return LatestIssue(
        number=issue.number,
        subject=fill_subject(issue.subject, name=newsletter.name, number=issue.number),
        url=f"{newsletter.base_url}/archive/{issue.id}",
        stories=stories,
    )


def next_issue(services: Services) -> str:
    """When the next issue comes, as the welcome email says it: "lundi 30 novembre 2026"."""
    settings = services.config.settings
    zone = settings.newsletter.timezone
    when = WeeklyTime.parse(settings.digest.schedule, zone).next(services.clock())
    return format_date(when, zone, settings.newsletter.language, weekday=True)
