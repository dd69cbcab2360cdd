"""What `issue send` settles before sending: the render that goes out, and to how many readers.

The command shows that render's warnings and asks for confirmation, then hands the very same
render to `send_issue`, so what was checked is what is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsletter.curate.states import can_start_sending
from newsletter.domain.delivery import RenderedMessage
from newsletter.domain.errors import UsageError
from newsletter.domain.model import Issue
from newsletter.domain.readers import SubscriberStatus
from newsletter.store.issues import IssueRepository
from newsletter.store.subscribers import SubscriberRepository

Render = Callable[[Issue], RenderedMessage]


@dataclass(frozen=True)
class SendPlan:
    issue: Issue
    # The render frozen when sending started, else a fresh one for a draft or scheduled issue;
    # None when neither exists (a send that died before freezing: send_issue renders again).
    rendered: RenderedMessage | None
    audience: int  # active subscribers: who the first send freezes as the audience
    fresh: Render | None = None  # renders a segment's part of the issue (readers' sections)

    @property
    def render(self) -> Render | None:
        """`send_issue`'s render function: the planned render for the issue itself (a
        segment's part, with fewer items, is rendered fresh), or None to let it render."""
        rendered, fresh = self.rendered, self.fresh
        if rendered is None:
            return None

        def render(issue: Issue) -> RenderedMessage:
            if fresh is None or issue.items == self.issue.items:
                return rendered
            return fresh(issue)

        return render


def prepare_send(
    issue_id: int,
    *,
    issues: IssueRepository,
    subscribers: SubscriberRepository,
    render: Render,
) -> SendPlan:
    """Load the issue and settle its render; UsageError for an unknown issue."""
    issue = issues.get(issue_id)
    if issue is None:
        raise UsageError(f"issue {issue_id} does not exist (see `newsletter issue list`)")
    rendered = issues.frozen_render(issue_id)
    if rendered is None and can_start_sending(issue.state):
        rendered = render(issue)
    return SendPlan(issue, rendered, subscribers.count(SubscriberStatus.ACTIVE), render)
