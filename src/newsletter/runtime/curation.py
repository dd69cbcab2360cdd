"""Issue use cases as the command line, the desk and the scheduler call them: the wiring's
dependencies, narrowed.

newsletter.curate.issues takes the repositories, the time, the renderer, the provider and a few
settings; this is the one place that picks them out of the Services.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from newsletter.curate import inbox, issues, presend
from newsletter.curate.issues import DraftOutcome, DraftSettings
from newsletter.curate.presend import Alert, Rules
from newsletter.curate.ranking import NO_CLICKS, ClickRates
from newsletter.curate.stories import Curation, Story
from newsletter.domain.delivery import Recipient
from newsletter.domain.funding import FundingFacts
from newsletter.domain.model import Issue
from newsletter.render.personalise import personalise
from newsletter.render.subject import fill_subject
from newsletter.runtime.config import Config
from newsletter.runtime.results import feed_click_rates, section_click_rates
from newsletter.runtime.wiring import Services


def draft(services: Services) -> DraftOutcome:
    """Draft the next issue from the best stories of the inbox."""
    return issues.draft(
        articles=services.store.articles,
        issues=services.store.issues,
        stories=services.store.stories,
        settings=draft_settings(services.config, click_rates(services)),
        now=services.clock(),
    )


def inbox_stories(
    services: Services, q: str | None = None, limit: int | None = None
) -> list[Story]:
    """The inbox as stories, best first: each with its lead article, the others, its section,
    its funding facts and its score's parts (`story.score`); `q` searches titles and summaries
    (accents and case aside). For `newsletter articles` and the desk.

    Grouping is the costly part: its stories are kept per process until what they are made of
    changes (the store's fingerprint, whichever process made the change), the ranking's
    inputs change, or the minute does (freshness moves with time; a minute-old order will do)."""
    articles, now = services.store.articles, services.clock()
    ranking = curation_of(services.config, click_rates(services))
    key = (articles.fingerprint(), now.replace(second=0, microsecond=0), ranking)
    found = services.inbox.get(
        key, lambda: inbox.ranked(articles=articles, now=now, curation=ranking)
    )
    return inbox.narrowed(found, articles, q, limit)


def dismiss_story(services: Services, article_ids: Sequence[int], restore: bool = False) -> int:
    """Dismiss a story in one action (all its articles: `story.articles`), or restore it."""
    return inbox.dismiss(services.store.stories, article_ids, restore=restore)


def correct_funding(
    services: Services, article_id: int, facts: FundingFacts | None, by: str | None = None
) -> None:
    """An editor's funding facts for the story led by `article_id` (None: it is no round)."""
    inbox.correct_funding(services.store.stories, article_id, facts, now=services.clock(), by=by)


def click_rates(services: Services) -> ClickRates:
    """How readers clicked each feed's and section's stories in the issues of the last 90 days
    (smoothed; empty before any click was counted)."""
    now = services.clock()
    return ClickRates(
        feeds=feed_click_rates(services, now), sections=section_click_rates(services, now)
    )


def curation_of(config: Config, clicks: ClickRates = NO_CLICKS) -> Curation:
    """The section rules and feed weights of the configuration, with the click rates."""
    settings = config.settings
    return Curation(
        rules=tuple((rule.name, tuple(rule.keywords)) for rule in settings.sections),
        weights={feed.name: feed.weight for feed in settings.feeds},
        clicks=clicks,
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


def draft_settings(config: Config, clicks: ClickRates = NO_CLICKS) -> DraftSettings:
    """The `[digest]` section, the newsletter's name, the sections in order and the ranking's
    configuration, for drafting."""
    settings = config.settings
    return DraftSettings(
        max_articles=settings.digest.max_articles,
        min_articles=settings.digest.min_articles,
        subject=settings.digest.subject,
        newsletter_name=settings.newsletter.name,
        sections=tuple(settings.section_names()),
        curation=curation_of(config, clicks),
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
