"""Issue use-cases: draft, schedule, unschedule, cancel, test-send. Thin over store and curate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from newsletter.curate.draft import plan_draft
from newsletter.curate.states import sources_of
from newsletter.domain.errors import ProviderError, UsageError
from newsletter.domain.model import Issue, IssueState, Recipient
from newsletter.domain.tokens import UNSUBSCRIBE
from newsletter.render.subject import fill_subject
from newsletter.runtime.wiring import Services
from newsletter.store.issues import NewItem


@dataclass(frozen=True)
class DraftOutcome:
    issue: Issue | None
    reason: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.issue.id if self.issue else None,
            "articles": len(self.issue.items) if self.issue else 0,
            "reason": self.reason,
        }


def draft(services: Services) -> DraftOutcome:
    """Draft the next issue from the newest articles no issue uses yet."""
    digest = services.config.settings.digest
    candidates = services.store.articles.unused(limit=digest.max_articles)
    sections = [feed.section for feed in services.config.settings.feeds if feed.section]
    plan = plan_draft(candidates, digest.max_articles, digest.min_articles, sections)
    if plan.reason:
        return DraftOutcome(issue=None, reason=plan.reason)
    subject = fill_subject(digest.subject, name=services.config.settings.newsletter.name)
    issue = services.store.issues.create(
        subject=subject,
        items=[NewItem(article_id=article.id, section=section) for article, section in plan.picks],
        created_at=services.clock(),
        preheader=_preheader(plan.picks[0][0].title if plan.picks else ""),
    )
    return DraftOutcome(issue=issue, reason=None)


def _preheader(lead_title: str) -> str:
    return lead_title[:140]


def get(services: Services, issue_id: int) -> Issue:
    issue = services.store.issues.get(issue_id)
    if issue is None:
        raise UsageError(f"issue {issue_id} does not exist (see `newsletter issue list`)")
    return issue


def schedule(services: Services, issue_id: int, send_at: datetime) -> Issue:
    issue = get(services, issue_id)
    if send_at.tzinfo is None:
        raise UsageError("the send time needs a time zone, e.g. 2026-12-01T08:00:00+01:00")
    if not issue.items:
        raise UsageError(f"issue {issue_id} has no article to send")
    moved = services.store.issues.transition(
        issue_id, sources_of(IssueState.SCHEDULED), IssueState.SCHEDULED, send_at=send_at
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}; only a draft can be scheduled")
    return get(services, issue_id)


def unschedule(services: Services, issue_id: int) -> Issue:
    issue = get(services, issue_id)
    moved = services.store.issues.transition(
        issue_id, (IssueState.SCHEDULED,), IssueState.DRAFT, send_at=None
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}, not scheduled")
    return get(services, issue_id)


def cancel(services: Services, issue_id: int) -> Issue:
    issue = get(services, issue_id)
    moved = services.store.issues.transition(
        issue_id, sources_of(IssueState.CANCELED), IssueState.CANCELED
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state} and can no longer be canceled")
    return get(services, issue_id)


def unsubscribe_url(services: Services, subscriber_id: int) -> str:
    return unsubscribe_urls(services)(subscriber_id)


def unsubscribe_urls(services: Services) -> Callable[[int], str]:
    """unsubscribe_url for many subscribers: the key and base URL are looked up once."""
    signer = services.signer
    base = services.config.settings.newsletter.base_url

    def url(subscriber_id: int) -> str:
        token = signer.sign(UNSUBSCRIBE, subscriber_id, services.clock())
        return f"{base}/unsubscribe/{token}"

    return url


def test_recipient(services: Services, email: str) -> Recipient:
    """A recipient for a test copy: outside the ledger, its unsubscribe link inert."""
    base = services.config.settings.newsletter.base_url
    return Recipient(
        delivery_id=0,
        subscriber_id=0,
        email=email,
        name=None,
        unsubscribe_url=f"{base}/unsubscribe/test",
    )


def send_now(services: Services, issue_id: int) -> Issue:
    """Schedule a draft (or a scheduled issue) for right now: the next dispatch tick sends it.

    Sending goes through the scheduler rather than the caller's process, so one leader sends,
    a restart resumes, and a web request never holds a whole send.
    """
    issue = get(services, issue_id)
    if not issue.items:
        raise UsageError(f"issue {issue_id} has no article to send")
    moved = services.store.issues.transition(
        issue_id,
        sources_of(IssueState.SENDING),  # due at once: the states a send may start from
        IssueState.SCHEDULED,
        send_at=services.clock(),
    )
    if not moved:
        raise UsageError(f"issue {issue_id} is {issue.state}; it cannot be sent now")
    return get(services, issue_id)


def send_test(services: Services, issue_id: int, to: str) -> str:
    """Send one copy of the issue to `to`, outside the ledger; return the address used."""
    from newsletter.audience.addresses import normalise_address

    recipient = test_recipient(services, normalise_address(to))
    rendered = services.renderer.render_issue(get(services, issue_id))
    test_copy = replace(
        rendered, subject=f"[TEST] {rendered.subject}", issue_id=None, categories=("test",)
    )
    result = services.provider.send_batch(test_copy, [recipient])
    problem = (
        next(iter(result.failed.values()), None)
        or next(iter(result.uncertain.values()), None)
        or ((result.deferred_error or "deferred by the provider") if result.deferred else None)
    )
    if problem:
        raise ProviderError(f"test copy to {recipient.email} not sent: {problem}")
    return recipient.email
