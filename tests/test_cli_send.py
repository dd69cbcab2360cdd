"""What `issue send` settles before sending (deliver.prepare): the render it shows, warns about
and sends, and the audience it asks to confirm."""

from __future__ import annotations

from dataclasses import replace

import pytest

from newsletter.deliver.prepare import prepare_send
from newsletter.domain.delivery import RenderedMessage
from newsletter.domain.errors import UsageError
from newsletter.domain.model import Issue
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import add_subscribers, fake_render, make_issue


def test_a_draft_is_rendered_once_and_that_render_is_sent(services: Services) -> None:
    """The plan renders a draft; send_issue sends that very render, not a second one."""
    issue_id = make_issue(services)
    add_subscribers(services, 2)
    calls: list[int] = []

    def render(issue: Issue) -> RenderedMessage:
        calls.append(issue.id)
        return replace(fake_render(issue), subject=f"render {len(calls)}")

    plan = prepare_send(
        issue_id,
        issues=services.store.issues,
        subscribers=services.store.subscribers,
        render=render,
    )
    assert (plan.issue.id, plan.audience, calls) == (issue_id, 2, [issue_id])
    assert plan.rendered is not None and plan.render is not None
    send_issue(services, issue_id, render=plan.render, sleep=lambda _s: None)
    frozen = services.store.issues.frozen_render(issue_id)
    assert frozen is not None and frozen.subject == "render 1"
    assert calls == [issue_id]


def test_once_sending_started_the_frozen_render_wins(services: Services) -> None:
    """After the first send, the plan shows the render frozen then, never a new one."""
    issue_id = make_issue(services)
    add_subscribers(services, 1)
    send_issue(services, issue_id, render=fake_render, sleep=lambda _s: None)
    frozen = services.store.issues.frozen_render(issue_id)

    def must_not_render(issue: Issue) -> RenderedMessage:
        raise AssertionError("rendered again")

    plan = prepare_send(
        issue_id,
        issues=services.store.issues,
        subscribers=services.store.subscribers,
        render=must_not_render,
    )
    assert plan.rendered == frozen


def test_an_unknown_issue_is_a_usage_error(services: Services) -> None:
    """A missing issue id: UsageError (exit 2), nothing rendered."""
    with pytest.raises(UsageError, match="issue 999 does not exist"):
        prepare_send(
            999,
            issues=services.store.issues,
            subscribers=services.store.subscribers,
            render=fake_render,
        )
