"""Issue use cases as the command line, the desk and the scheduler call them: the wiring's
dependencies, narrowed.

newsletter.curate.issues takes the repositories, the time, the renderer, the provider and a few
settings; this is the one place that picks them out of the Services.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from newsletter.curate import issues, presend
from newsletter.curate.issues import DraftOutcome, DraftSettings
from newsletter.curate.presend import Alert, Rules
from newsletter.domain.model import Issue, Recipient
from newsletter.render.personalise import personalise
from newsletter.render.subject import fill_subject
from newsletter.runtime.config import Config
from newsletter.runtime.wiring import Services


def draft(services: Services) -> DraftOutcome:
    """Draft the next issue from the newest articles no issue uses yet."""
    return issues.draft(
        articles=services.store.articles,
        issues=services.store.issues,
        settings=draft_settings(services.config),
        now=services.clock(),
    )


def open_or_start(services: Services) -> Issue:
    """The open draft, or a new empty one: where an editor's first added article goes."""
    return issues.open_or_start(
        services.store.issues, draft_settings(services.config), services.clock()
    )


def presend_rules(config: Config, now: datetime) -> Rules:
    """What the pre-send check compares against: the configured subject, a week's period."""
    settings = config.settings
    return Rules(
        default_subject=fill_subject(settings.digest.subject, name=settings.newsletter.name),
        now=now,
    )


def presend_check(services: Services, issue_id: int) -> list[Alert]:
    """The pre-send check of an issue on its email as a reader gets it (for the CLI)."""
    issue = issues.get(services.store.issues, issue_id)
    copy = personalise(
        services.renderer.render_issue(issue), test_recipient(services, "check@example.org")
    )
    return presend.presend_check(issue, copy.html, presend_rules(services.config, services.clock()))


def draft_settings(config: Config) -> DraftSettings:
    """The `[digest]` section, the newsletter's name and the feeds' sections, for drafting."""
    settings = config.settings
    return DraftSettings(
        max_articles=settings.digest.max_articles,
        min_articles=settings.digest.min_articles,
        subject=settings.digest.subject,
        newsletter_name=settings.newsletter.name,
        sections=tuple(feed.section for feed in settings.feeds if feed.section),
    )


def send_test(services: Services, issue_id: int, to: str) -> str:
    """Send one copy of the issue to `to`, outside the ledger; return the address used."""
    return issues.send_test(
        issue_id,
        to,
        issues=services.store.issues,
        render=services.renderer.render_issue,
        provider=services.provider,
        base_url=services.config.settings.newsletter.base_url,
    )


def test_recipient(services: Services, email: str) -> Recipient:
    """A recipient for a test copy: outside the ledger, its unsubscribe link inert."""
    return issues.test_recipient(services.config.settings.newsletter.base_url, email)


def unsubscribe_urls(services: Services) -> Callable[[int], str]:
    """Each subscriber's signed unsubscribe link, with the wiring's key, base URL and clock."""
    return issues.unsubscribe_urls(
        services.signer, services.config.settings.newsletter.base_url, services.clock
    )
