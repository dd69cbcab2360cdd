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
from newsletter.audience.outbox import Mailer as OutboxMailer
from newsletter.audience.outbox import MailerParts, MailSettings, RenderEmail
from newsletter.deliver.base import Provider
from newsletter.domain.model import Placeholders, RenderedMessage
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
        )
    )
