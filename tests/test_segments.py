"""Sending by segment: one render per set of sections in use, skips, crash safety."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from newsletter.deliver.send import CLAIM_LEASE
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import DeliveryState, Recipient
from newsletter.domain.errors import UsageError
from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.segments import (
    clean_sections,
    for_segment,
    parse_sections_option,
    segment_key,
    segment_sections,
)
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.readers_support import (
    CountingRender,
    bulk_readers,
    make_sectioned_issue,
    memory,
    readers,
)

__all__ = ["readers"]


class Crash(BaseException):
    """Stands for the process dying in the middle of a provider call."""


def _send(services: Services, issue_id: int, render: CountingRender, **options: Any) -> Any:
    options.setdefault("sleep", lambda _s: None)
    return send_issue(services, issue_id, render=render, **options)


def test_three_segments_three_renders_for_300_readers(readers: Services) -> None:
    """300 readers in three segments (every section, Tech, Climat): the renderer runs three
    times, and each reader's copy holds exactly their sections."""
    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, (), 100, 0)
    bulk_readers(readers, ("Tech",), 100, 100)
    bulk_readers(readers, ("Climat",), 100, 200)
    render = CountingRender(readers)
    counts = _send(readers, issue_id, render)
    assert (counts.state, counts.sent, counts.skipped) == (IssueState.SENT, 300, 0)
    assert len(render.issues) == 3
    assert sorted(len(issue.items) for issue in render.issues) == [1, 1, 2]
    sent = memory(readers).sent
    assert len(sent) == 300
    every, tech, climat = (
        memory(readers).to(f"r{i}@example.org")[0].copy.text for i in (0, 100, 200)
    )
    assert "logiciel libre" in every and "carbone capturé" in every
    assert "logiciel libre" in tech and "carbone capturé" not in tech
    assert "carbone capturé" in climat and "logiciel libre" not in climat
    # Each batch held one segment's copies: a batch is one message (one subject and render).
    assert len({every, tech, climat}) == 3


def test_reader_with_nothing_in_their_sections_is_skipped(readers: Services) -> None:
    """A reader of "Sport" only (nothing this issue) is skipped, counted, not mailed."""
    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, ("Sport",), 2, 0)
    bulk_readers(readers, ("Tech", "Sport"), 2, 2)
    render = CountingRender(readers)
    counts = _send(readers, issue_id, render)
    assert (counts.sent, counts.skipped, counts.state) == (2, 2, IssueState.SENT)
    mailed = sorted(copy.recipient.email for copy in memory(readers).sent)
    assert mailed == ["r2@example.org", "r3@example.org"]
    assert len(render.issues) == 2  # the issue's own render, then Tech+Sport's


def test_crash_mid_segment_resumes_without_mailing_twice(
    readers: Services, clock: FrozenClock
) -> None:
    """A run that dies during a segment's batch leaves it uncertain; the next run sends the
    rest with the frozen renders (no new render), each reader once, with their sections."""
    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, ("Tech",), 4, 0)
    bulk_readers(readers, ("Climat",), 4, 4)
    provider = memory(readers)
    inner_send = provider.send_batch
    calls = {"n": 0}

    def crashing(message: Any, recipients: Sequence[Recipient]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash()
        return inner_send(message, recipients)

    provider.send_batch = crashing  # type: ignore[method-assign]
    render = CountingRender(readers)
    with pytest.raises(Crash):
        _send(readers, issue_id, render, worker="gone-host:1:abc")
    renders_before = len(render.issues)
    provider.send_batch = inner_send  # type: ignore[method-assign]
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    counts = _send(readers, issue_id, render)
    assert len(render.issues) == renders_before  # frozen renders reused
    # Batches of 3 within a segment: Tech's 3, then Tech's last one (the crash), Climat's 3+1.
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 7, 1)
    mailed = Counter(copy.recipient.email for copy in provider.sent)
    assert max(mailed.values()) == 1
    for copy in provider.sent:
        number = int(copy.recipient.email[1:].split("@")[0])
        expected = "logiciel libre" if number < 4 else "carbone capturé"
        assert expected in copy.copy.text
    counts = _send(readers, issue_id, render, resend_uncertain=True)
    assert (counts.sent, counts.uncertain) == (8, 0)
    assert max(Counter(copy.recipient.email for copy in provider.sent).values()) == 1


def test_segment_keys_and_choices_are_pure_and_hostile_proof() -> None:
    """Keys are canonical; unknown names dropped from a form, refused from a command."""
    assert segment_key(["Tech", "Climat", "Tech"]) == segment_key(["Climat", "Tech"])
    assert segment_key([]) == ""
    assert segment_sections(segment_key(["Climat"])) == ("Climat",)
    assert segment_sections("not json") == () and segment_sections('{"a": 1}') == ()
    known = ["Tech", "Climat"]
    assert clean_sections(["<script>", "Climat", "Climat"], known) == ("Climat",)
    assert parse_sections_option(" Climat , Tech", known) == ("Tech", "Climat")
    with pytest.raises(UsageError, match="'Sports'"):
        parse_sections_option("Sports", known)


def test_for_segment_keeps_items_without_section(readers: Services) -> None:
    """A segment's issue keeps its sections' items and those with no section."""
    issue_id = make_sectioned_issue(readers)
    issue = readers.store.issues.get(issue_id)
    assert issue is not None
    assert [i.section for i in for_segment(issue, segment_key(["Climat"])).items] == ["Climat"]
    assert for_segment(issue, "") == issue
    assert for_segment(issue, segment_key(["Sport"])).items == ()


def test_frozen_audience_keeps_the_choice_made_before_sending(readers: Services) -> None:
    """Changing sections after sending started does not move a reader's copy."""
    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, ("Tech",), 1, 0)
    subscriber = readers.store.subscribers.by_email("r0@example.org")
    assert subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE
    assert readers.store.deliveries.start(issue_id, readers.clock())
    readers.store.subscribers.set_sections(subscriber.id, ("Climat",))
    render = CountingRender(readers)
    _send(readers, issue_id, render)
    (copy,) = memory(readers).sent
    assert "logiciel libre" in copy.copy.text and "carbone" not in copy.copy.text
    assert readers.store.deliveries.counts(issue_id)[DeliveryState.SENT] == 1


def test_the_planned_render_of_issue_send_still_renders_each_segment(readers: Services) -> None:
    """`issue send` hands send_issue the render it checked: that one for readers of every
    section, a fresh render for each segment's part (never the whole issue to everyone)."""
    from newsletter.deliver.prepare import prepare_send

    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, (), 1, 0)
    bulk_readers(readers, ("Climat",), 1, 1)
    render = CountingRender(readers)
    store = readers.store
    plan = prepare_send(issue_id, issues=store.issues, subscribers=store.subscribers, render=render)
    assert plan.render is not None and len(render.issues) == 1
    send_issue(readers, issue_id, render=plan.render, sleep=lambda _s: None)
    assert len(render.issues) == 2
    climat = memory(readers).to("r1@example.org")[0].copy.text
    assert "carbone capturé" in climat and "logiciel libre" not in climat
    assert "logiciel libre" in memory(readers).to("r0@example.org")[0].copy.text


def test_dry_run_counts_skipped_readers_and_renders_per_segment(readers: Services) -> None:
    """`issue send --dry-run` builds each reader's copy with their segment's render and counts
    the readers who would be skipped; nothing changes."""
    from newsletter.runtime.sending import dry_run

    issue_id = make_sectioned_issue(readers)
    bulk_readers(readers, (), 2, 0)
    bulk_readers(readers, ("Tech",), 2, 2)
    bulk_readers(readers, ("Sport",), 3, 4)
    render = CountingRender(readers)
    report = dry_run(readers, issue_id, render=render)
    assert (report.would_send, report.copies_built, report.would_skip) == (4, 4, 3)
    assert sorted(len(issue.items) for issue in render.issues) == [1, 2]
    assert readers.store.deliveries.counts(issue_id)[DeliveryState.PENDING] == 0
    assert memory(readers).sent == []
