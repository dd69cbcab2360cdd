"""Issue use-cases: draft, schedule, unschedule, cancel, test-send. Thin over store and curate.

Each takes what it needs (the issue and article repositories, the time, a few settings, the
renderer and provider for a test copy), never the whole application; runtime/curation.py picks
them out of the wiring for callers that have it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from newsletter.curate.draft import plan_draft
from newsletter.curate.inbox import ranked
from newsletter.curate.states import sources_of
from newsletter.curate.stories import Curation
from newsletter.deliver.base import Provider
from newsletter.domain.clock import Clock
from newsletter.domain.delivery import Recipient, RenderedMessage
from newsletter.domain.errors import ProviderError, UsageError
from newsletter.domain.model import Issue, IssueState
from newsletter.domain.tokens import UNSUBSCRIBE, TokenSigner
from newsletter.render.subject import fill_subject
from newsletter.store.articles import ArticleRepository
from newsletter.store.issues import IssueRepository, NewItem
from newsletter.store.stories import StoryRepository


@dataclass(frozen=True)
class DraftSettings:
    """What drafting reads of the configuration: the [digest] limits and subject, the
    newsletter's name, and the feeds' sections in their configured order."""

    max_articles: int
    min_articles: int
    subject: str
    newsletter_name: str
    sections: tuple[str, ...] = ()
    curation: Curation = field(default_factory=Curation)


@dataclass(frozen=True)
class DraftOutcome:
    issue: Issue | None
    reason: str | None
    existing: bool = False  # the draft already open, rather than a new one

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.issue.id if self.issue else None,
            "articles": len(self.issue.items) if self.issue else 0,
            "reason": self.reason,
            "existing": self.existing,
        }


def draft(
    *,
    articles: ArticleRepository,
    issues: IssueRepository,
    stories: StoryRepository,
    settings: DraftSettings,
    now: datetime,
) -> DraftOutcome:
    """Draft the next issue from the best stories of the inbox (articles no issue uses yet and
    no editor dismissed), each story once, by its lead article; one draft at a time, so when a
    draft is open that draft is the outcome. The facts of each funding story are kept on its
    lead, so the email lists what the desk showed."""
    current = issues.open_draft()
    if current is not None:
        return DraftOutcome(issue=current, reason=None, existing=True)
    found = ranked(articles=articles, now=now, curation=settings.curation)
    plan = plan_draft(found, settings.max_articles, settings.min_articles, settings.sections)
    if plan.reason:
        return DraftOutcome(issue=None, reason=plan.reason)
    for story in plan.stories:
        if story.funding is not None and not story.lead.funding_set:
            stories.set_funding(story.lead.id, story.funding, at=now)
    subject = fill_subject(settings.subject, name=settings.newsletter_name)
    issue = issues.create(
        subject=subject,
        items=[NewItem(article_id=article.id, section=section) for article, section in plan.picks],
        created_at=now,
        preheader=_preheader(plan.picks[0][0].title if plan.picks else ""),
    )
    return DraftOutcome(issue=issue, reason=None)


def open_or_start(issues: IssueRepository, settings: DraftSettings, now: datetime) -> Issue:
    """The open draft, or a new empty one: where an editor's first added article goes."""
    current = issues.open_draft()
    if current is not None:
        return current
    return issues.create(
        subject=fill_subject(settings.subject, name=settings.newsletter_name),
        items=[],
        created_at=now,
    )


def _preheader(lead_title: str) -> str:
    return lead_title[:140]


def get(issues: IssueRepository, issue_id: int) -> Issue:
    issue = issues.get(issue_id)
    if issue is None:
        raise UsageError(f"issue {issue_id} does not exist (see `newsletter issue list`)")
    return issue


def send_time_in(zone: tzinfo, when: datetime) -> datetime:
    """When to send: a time without a UTC offset is a wall-clock time in `zone` (the
    [newsletter] timezone); one with an offset stays as given."""
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def schedule(issues: IssueRepository, issue_id: int, send_at: datetime) -> Issue:
    issue = get(issues, issue_id)
    if send_at.tzinfo is None:
        raise UsageError("the send time needs a time zone, e.g. 2026-12-01T08:00:00+01:00")
    if not issue.items:
        raise UsageError(f"issue {issue_id} has no article to send")
    moved = issues.transition(
        issue_id, sources_of(IssueState.SCHEDULED), IssueState.SCHEDULED, send_at=send_at
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}; only a draft can be scheduled")
    return get(issues, issue_id)


def unschedule(issues: IssueRepository, issue_id: int) -> Issue:
    issue = get(issues, issue_id)
    moved = issues.transition(issue_id, (IssueState.SCHEDULED,), IssueState.DRAFT, send_at=None)
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}, not scheduled")
    return get(issues, issue_id)


def cancel(issues: IssueRepository, issue_id: int) -> Issue:
    issue = get(issues, issue_id)
    moved = issues.transition(issue_id, sources_of(IssueState.CANCELED), IssueState.CANCELED)
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state} and can no longer be canceled")
    return get(issues, issue_id)


def unsubscribe_url(signer: TokenSigner, base_url: str, clock: Clock, subscriber_id: int) -> str:
    return unsubscribe_urls(signer, base_url, clock)(subscriber_id)


def unsubscribe_urls(signer: TokenSigner, base_url: str, clock: Clock) -> Callable[[int], str]:
    """unsubscribe_url for many subscribers: each link signed at the time it is made."""

    def url(subscriber_id: int) -> str:
        token = signer.sign(UNSUBSCRIBE, subscriber_id, clock())
        return f"{base_url}/unsubscribe/{token}"

    return url


def test_recipient(base_url: str, email: str) -> Recipient:
    """A recipient for a test copy: outside the ledger, its unsubscribe link inert."""
    return Recipient(
        delivery_id=0,
        subscriber_id=0,
        email=email,
        name=None,
        unsubscribe_url=f"{base_url}/unsubscribe/test",
    )


def send_now(issues: IssueRepository, issue_id: int, now: datetime) -> Issue:
    """Schedule a draft (or a scheduled issue) for right now: the next dispatch tick sends it.

    Sending goes through the scheduler rather than the caller's process, so one leader sends,
    a restart resumes, and a web request never holds a whole send.
    """
    issue = get(issues, issue_id)
    if not issue.items:
        raise UsageError(f"issue {issue_id} has no article to send")
    moved = issues.transition(
        issue_id,
        sources_of(IssueState.SENDING),  # due at once: the states a send may start from
        IssueState.SCHEDULED,
        send_at=now,
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}; it cannot be sent now")
    return get(issues, issue_id)


def send_test(
    issue_id: int,
    to: str,
    *,
    issues: IssueRepository,
    render: Callable[[Issue], RenderedMessage],
    provider: Provider,
    base_url: str,
) -> str:
    """Send one copy of the issue to `to`, outside the ledger; return the address used."""
    from newsletter.audience.addresses import normalise_address

    recipient = test_recipient(base_url, normalise_address(to))
    rendered = render(get(issues, issue_id))
    test_copy = replace(
        rendered, subject=f"[TEST] {rendered.subject}", issue_id=None, categories=("test",)
    )
    result = provider.send_batch(test_copy, [recipient])
    problem = (
        next(iter(result.failed.values()), None)
        or next(iter(result.uncertain.values()), None)
        or ((result.deferred_error or "deferred by the provider") if result.deferred else None)
    )
    if problem:
        raise ProviderError(f"test copy not sent: {problem}", recipient=recipient.email)
    return recipient.email
