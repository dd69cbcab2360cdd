"""The send loop on a real database with the memory provider: ledger, resume, retries, stops."""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.cli.output import progress_bar
from newsletter.deliver.memory import MemoryProvider
from newsletter.deliver.send import CLAIM_LEASE, RetryPolicy
from newsletter.deliver.workers import dead_local_workers
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import BatchResult, DeliveryState, Recipient, RenderedMessage
from newsletter.domain.errors import (
    ConfigError,
    PermanentProviderError,
    SendInterrupted,
    TransientProviderError,
    UsageError,
)
from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.tokens import UNSUBSCRIBE
from newsletter.runtime.sending import dry_run, send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import (
    SUBJECT,
    add_subscribers,
    dead_pid,
    fake_render,
    make_issue,
    with_provider,
)


class Crash(BaseException):
    """Stands for the process dying in the middle of a provider call."""


@dataclass
class ScriptedProvider:
    """The memory provider, with a hook run before each batch (to crash, unsubscribe, ...)."""

    inner: MemoryProvider
    before: Callable[[int, Sequence[Recipient]], None] = lambda _n, _r: None
    calls: int = 0
    name: str = "scripted"
    results: list[BatchResult] = field(default_factory=list)

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        self.calls += 1
        self.before(self.calls, recipients)
        if self.results:
            return self.results.pop(0)
        return self.inner.send_batch(message, recipients)

    def close(self) -> None:
        pass


def _memory(services: Services) -> MemoryProvider:
    provider = services.provider
    if isinstance(provider, ScriptedProvider):
        provider = provider.inner
    assert isinstance(provider, MemoryProvider)
    return provider


def _script(services: Services, before: Callable[[int, Sequence[Recipient]], None]) -> Any:
    scripted = ScriptedProvider(inner=_memory(services), before=before)
    services._provider = scripted
    return scripted


def _send(services: Services, issue_id: int, **options: Any) -> Any:
    options.setdefault("sleep", lambda _s: None)
    return send_issue(services, issue_id, render=fake_render, **options)


def test_full_send_mails_each_subscriber_once(services: Services) -> None:
    """Every active subscriber gets one personalised copy; the issue ends `sent`."""
    issue_id = make_issue(services)
    ids = add_subscribers(services, 7)
    pending = SubscriberStatus.PENDING
    services.store.subscribers.add("p@example.org", None, pending, services.clock())
    counts = _send(services, issue_id)
    assert (counts.state, counts.total, counts.sent, counts.pending) == (IssueState.SENT, 7, 7, 0)
    sent = _memory(services).sent
    assert sorted(c.recipient.email for c in sent) == sorted(f"u{i}@example.org" for i in range(7))
    assert _memory(services).batches == 3  # batch_size 3
    first = _memory(services).to("u0@example.org")[0]
    assert first.copy.subject == SUBJECT.format(name="Zoé 0")
    token = first.recipient.unsubscribe_url.rsplit("/", 1)[1]
    assert services.signer.verify(token, UNSUBSCRIBE, services.clock()) == ids[0]
    assert first.headers["List-Unsubscribe"] == f"<{first.recipient.unsubscribe_url}>"
    assert "%%" not in first.copy.html + first.copy.text
    issue = services.store.issues.get(issue_id)
    assert issue is not None and issue.sent_at == services.clock()
    frozen = services.store.issues.frozen_render(issue_id)
    assert frozen is not None and frozen.subject == SUBJECT.format(name=frozen.placeholders.name)


def test_second_send_sends_nothing_more(services: Services) -> None:
    """Running the send again on a sent issue mails nobody and reports the same counts."""
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    first = _send(services, issue_id)
    again = _send(services, issue_id)
    assert len(_memory(services).sent) == 4
    assert again == first


def _crash_on_second_batch(services: Services) -> ScriptedProvider:
    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 2:
            raise Crash()

    scripted: ScriptedProvider = _script(services, before)
    return scripted


def test_resume_after_crash_marks_batch_uncertain(services: Services, clock: FrozenClock) -> None:
    """A batch left `sending` by a dead run becomes uncertain: never resent without asking."""
    issue_id = make_issue(services)
    add_subscribers(services, 7)
    _crash_on_second_batch(services)
    with pytest.raises(Crash):
        _send(services, issue_id, worker="gone-host:1:abc")
    assert services.store.deliveries.counts(issue_id)[DeliveryState.SENDING] == 3

    # Still inside the lease: the rows stay `sending`, and the issue is not declared sent.
    services._provider = _memory(services)
    counts = _send(services, issue_id)
    assert (counts.state, counts.sent, counts.sending) == (IssueState.SENDING, 4, 3)

    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    counts = _send(services, issue_id)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 4, 3)
    assert len(_memory(services).sent) == 4

    counts = _send(services, issue_id, resend_uncertain=True)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 7, 0)
    emails = [c.recipient.email for c in _memory(services).sent]
    assert sorted(emails) == sorted(f"u{i}@example.org" for i in range(7))


def test_dead_local_worker_is_recovered_at_once(services: Services) -> None:
    """Rows of a worker whose process has exited on this host become uncertain right away."""
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    _crash_on_second_batch(services)
    dead = f"{socket.gethostname()[:40]}:{dead_pid()}:abc"
    with pytest.raises(Crash):
        _send(services, issue_id, worker=dead)
    services._provider = _memory(services)
    counts = _send(services, issue_id)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 3, 2)


def test_dead_local_workers_keeps_live_and_foreign_ones() -> None:
    """Only workers of this host whose pid is gone are dead; others keep their lease."""
    host = socket.gethostname()[:40]
    alive = f"{host}:{os.getpid()}:x"
    gone = f"{host}:{dead_pid()}:y"
    assert dead_local_workers([alive, gone, "elsewhere:1:z", "odd"]) == [gone]


def test_subscriber_leaving_mid_send_is_skipped(services: Services) -> None:
    """A subscriber who unsubscribes before their batch goes is skipped, not mailed."""
    issue_id = make_issue(services)
    ids = add_subscribers(services, 7)

    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 1:
            services.store.subscribers.set_status(
                ids[5], SubscriberStatus.UNSUBSCRIBED, services.clock()
            )

    _script(services, before)
    counts = _send(services, issue_id)
    assert (counts.sent, counts.skipped, counts.state) == (6, 1, IssueState.SENT)
    assert _memory(services).to("u5@example.org") == []


def test_refused_recipient_fails_and_the_rest_goes(services: Services) -> None:
    """A recipient the provider refuses for good is `failed`; everyone else is sent."""
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    _memory(services).refuse = {"u2@example.org"}
    counts = _send(services, issue_id)
    assert (counts.sent, counts.failed, counts.state) == (4, 1, IssueState.SENT)


def test_transient_errors_are_retried_with_backoff(services: Services) -> None:
    """Two outages then success: the batch goes once, after two growing waits."""
    issue_id = make_issue(services)
    add_subscribers(services, 3)
    _memory(services).fail_next = 2
    waits: list[float] = []
    counts = _send(services, issue_id, sleep=waits.append, retry=RetryPolicy(base_seconds=0.01))
    assert (counts.sent, counts.state) == (3, IssueState.SENT)
    assert len(_memory(services).sent) == 3
    assert 0 < sum(waits) < 1 and len(waits) >= 2


def test_retry_after_is_honoured(services: Services) -> None:
    """A rate limit saying 'retry after 7 s' makes the loop wait at least that long."""
    issue_id = make_issue(services)
    add_subscribers(services, 2)

    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 1:
            raise TransientProviderError("429", retry_after=7)

    _script(services, before)
    waits: list[float] = []
    counts = _send(services, issue_id, sleep=waits.append)
    assert counts.sent == 2
    assert sum(waits) >= 7


def test_outage_beyond_the_bound_stops_and_resumes(services: Services) -> None:
    """After the last retry the batch goes back to pending and the run fails; a rerun resumes."""
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    _memory(services).fail_next = 3
    with pytest.raises(TransientProviderError, match="again to resume"):
        _send(services, issue_id, retry=RetryPolicy(attempts=3, base_seconds=0.001))
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.sending, counts.sent) == (5, 0, 0)
    counts = _send(services, issue_id)
    assert (counts.sent, counts.state) == (5, IssueState.SENT)


def test_permanent_error_stops_and_releases_the_batch(services: Services) -> None:
    """Bad credentials stop the send; the batch in hand goes back to pending, not uncertain."""
    issue_id = make_issue(services)
    add_subscribers(services, 4)

    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 2:
            raise PermanentProviderError("check SENDGRID_API_KEY")

    _script(services, before)
    with pytest.raises(PermanentProviderError):
        _send(services, issue_id)
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.sent, counts.pending, counts.sending, counts.uncertain) == (3, 1, 0, 0)


def test_provider_reported_uncertain_and_partial_results(services: Services) -> None:
    """A provider's uncertain and deferred recipients are recorded; deferred ones are retried."""
    issue_id = make_issue(services)
    add_subscribers(services, 3)
    scripted = _script(services, lambda _n, _r: None)
    first_ids = [1, 2, 3]
    scripted.results = [
        BatchResult(uncertain={first_ids[0]: "answer lost"}, deferred=(first_ids[2],)),
    ]
    counts = _send(services, issue_id)
    assert (counts.sent, counts.uncertain, counts.state) == (2, 1, IssueState.SENT)
    assert [c.recipient.delivery_id for c in _memory(services).sent] == [first_ids[2]]


def test_sigterm_finishes_the_batch_in_flight_then_stops(services: Services) -> None:
    """SIGTERM during a batch: that batch is recorded, the run stops, a rerun completes it."""
    issue_id = make_issue(services)
    add_subscribers(services, 7)

    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    _script(services, before)
    with pytest.raises(SendInterrupted):
        _send(services, issue_id)
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.sent, counts.pending, counts.sending) == (3, 4, 0)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    counts = _send(services, issue_id)
    assert (counts.sent, counts.state) == (7, IssueState.SENT)


def test_process_shutdown_finishes_the_batch_in_flight(services: Services) -> None:
    """`newsletter run` shutting down (Services.stopping) stops a send after its batch."""
    issue_id = make_issue(services)
    add_subscribers(services, 7)

    def before(call: int, _recipients: Sequence[Recipient]) -> None:
        if call == 1:
            services.stopping.set()

    _script(services, before)
    with pytest.raises(SendInterrupted):
        _send(services, issue_id)
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.sent, counts.pending, counts.sending) == (3, 4, 0)
    services.stopping.clear()
    assert _send(services, issue_id).sent == 7


def test_unknown_and_canceled_issues_are_usage_errors(services: Services) -> None:
    """Sending an issue that does not exist, or was canceled, is refused with a clear error."""
    with pytest.raises(UsageError, match="does not exist"):
        _send(services, 99)
    issue_id = make_issue(services)
    services.store.issues.transition(issue_id, [IssueState.DRAFT], IssueState.CANCELED)
    with pytest.raises(UsageError, match="canceled"):
        _send(services, issue_id)


def test_render_failure_leaves_the_issue_a_draft(services: Services) -> None:
    """A render error happens before the audience is frozen: the issue stays a draft."""
    issue_id = make_issue(services)
    add_subscribers(services, 2)

    def broken(_issue: Any) -> RenderedMessage:
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        send_issue(services, issue_id, render=broken)
    issue = services.store.issues.get(issue_id)
    assert issue is not None and issue.state is IssueState.DRAFT
    assert services.store.deliveries.status(issue_id, issue.state).total == 0


def test_dry_run_builds_copies_and_changes_nothing(services: Services) -> None:
    """--dry-run personalises every copy in memory and leaves the issue and ledger as they were."""
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    report = dry_run(services, issue_id, render=fake_render)
    assert (report.would_send, report.copies_built, report.state) == (4, 4, IssueState.DRAFT)
    issue = services.store.issues.get(issue_id)
    assert issue is not None and issue.state is IssueState.DRAFT
    assert services.store.deliveries.status(issue_id, issue.state).total == 0
    assert _memory(services).sent == []


def test_cli_send_writes_eml_files_and_reports_json(services: Services, tmp_path: Path) -> None:
    """`issue send ID --yes --json` through the file provider: one .eml each, counts in JSON."""
    issue_id = make_issue(services)
    add_subscribers(services, 3)
    issue = services.store.issues.get(issue_id)
    assert issue is not None
    # Started here with a template-free render, so the command resumes it.
    services.store.deliveries.start(issue_id, services.clock())
    services.store.issues.freeze_render(issue_id, replace(fake_render(issue), issue_id=issue_id))
    config = str(services.config.path)
    env = {"NEWSLETTER_SECRET_KEY": "test-secret"}
    runner = CliRunner()
    args = ["issue", "send", str(issue_id), "--yes", "--json", "--config", config]
    first = runner.invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert (data["state"], data["sent"], data["pending"]) == ("sent", 3, 0)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    again = runner.invoke(cli, args, env=env)
    assert json.loads(again.output) == data
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3
    status = runner.invoke(cli, ["issue", "status", str(issue_id), "--json", "--config", config])
    assert json.loads(status.output) == data


def test_misconfigured_provider_fails_before_anything_changes(services: Services) -> None:
    """provider = sendgrid without an API key: ConfigError, and the issue is still a draft."""
    issue_id = make_issue(services)
    add_subscribers(services, 2)
    services._provider = None
    services.config = with_provider(services.config, "sendgrid")
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        _send(services, issue_id)
    issue = services.store.issues.get(issue_id)
    assert issue is not None and issue.state is IssueState.DRAFT


def test_progress_bar_goes_to_stderr(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    """With progress on, a bar showing done/total is drawn on stderr, nothing on stdout."""
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    with progress_bar("sending", enabled=True) as bar:
        _send(services, issue_id, progress=bar)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "4/4" in captured.err and "4 sent" in captured.err
