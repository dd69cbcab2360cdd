"""The send loop's decider as a table: each provider answer -> the ledger intents and next step."""

from __future__ import annotations

import random

import pytest

from newsletter.deliver.decide import Answer, BatchDecision, Next, RetryPolicy, decide_batch
from newsletter.domain.delivery import BatchResult
from newsletter.domain.errors import PermanentProviderError, TransientProviderError

IDS = (1, 2, 3)
POLICY = RetryPolicy(attempts=3, base_seconds=1.0, max_seconds=60.0, max_retry_after=300.0)


def decide(answer: Answer, *, retries: int = 0, stopping: bool = False) -> BatchDecision:
    return decide_batch(
        IDS, answer, retries=retries, policy=POLICY, stopping=stopping, rng=random.Random(7)
    )


# (case, answer, retries, stopping) -> (next, sent, failed, uncertain, release, retry).
# A definite refusal releases its rows (back to pending) even when the run retries them: they
# must not stay `sending` through the wait.
TABLE = [
    ("all taken", BatchResult(), 0, False, Next.DONE, IDS, {}, {}, (), ()),
    (
        "one refused, one lost",
        BatchResult(failed={2: "bad address"}, uncertain={3: "timeout"}),
        0,
        False,
        Next.DONE,
        (1,),
        {2: "bad address"},
        {3: "timeout"},
        (),
        (),
    ),
    (
        "some deferred, retries left",
        BatchResult(deferred=(2, 3), deferred_error="429"),
        0,
        False,
        Next.RETRY,
        (1,),
        {},
        {},
        (2, 3),
        (2, 3),
    ),
    (
        "deferred on the last attempt",
        BatchResult(deferred=(2, 3), deferred_error="503"),
        2,
        False,
        Next.GIVE_UP,
        (1,),
        {},
        {},
        (2, 3),
        (),
    ),
    (
        "deferred while stopping, even on the last attempt",
        BatchResult(deferred=(3,)),
        2,
        True,
        Next.STOP,
        (1, 2),
        {},
        {},
        (3,),
        (),
    ),
    ("transient error", TransientProviderError("down"), 0, False, Next.RETRY, (), {}, {}, IDS, IDS),
    (
        "transient error, attempts spent",
        TransientProviderError("down"),
        2,
        False,
        Next.GIVE_UP,
        (),
        {},
        {},
        IDS,
        (),
    ),
    ("permanent error", PermanentProviderError("401"), 0, False, Next.REFUSED, (), {}, {}, IDS, ()),
    ("stopping, all taken", BatchResult(), 0, True, Next.DONE, IDS, {}, {}, (), ()),
]


@pytest.mark.parametrize(
    (
        "answer",
        "retries",
        "stopping",
        "next_step",
        "sent",
        "failed",
        "uncertain",
        "release",
        "retry",
    ),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_each_answer_becomes_its_ledger_intents(
    answer: Answer,
    retries: int,
    stopping: bool,
    next_step: Next,
    sent: tuple[int, ...],
    failed: dict[int, str],
    uncertain: dict[int, str],
    release: tuple[int, ...],
    retry: tuple[int, ...],
) -> None:
    decision = decide(answer, retries=retries, stopping=stopping)
    assert decision.next is next_step
    assert decision.sent == sent
    assert dict(decision.failed) == failed
    assert dict(decision.uncertain) == uncertain
    assert decision.release == release
    assert decision.retry == retry
    assert decision.records == bool(sent or failed or uncertain)


def test_a_retry_waits_the_backoff_and_a_retry_after_is_honoured() -> None:
    """Without Retry-After: backoff/2..backoff, doubling; with one: that long (capped) + jitter."""
    first = decide(TransientProviderError("down"), retries=0)
    second = decide(TransientProviderError("down"), retries=1)
    assert 0.5 <= first.delay <= 1.0
    assert 1.0 <= second.delay <= 2.0
    told = decide(TransientProviderError("slow down", retry_after=30.0))
    assert 30.0 <= told.delay <= 31.0 and told.retry_after == 30.0
    capped = decide(BatchResult(deferred=IDS, retry_after=10_000.0))
    assert 300.0 <= capped.delay <= 301.0


def test_giving_up_keeps_the_provider_error_for_the_message() -> None:
    decision = decide(TransientProviderError("503 from upstream", retry_after=5.0), retries=2)
    assert decision.next is Next.GIVE_UP
    assert decision.error == "503 from upstream" and decision.retry_after == 5.0
    assert decision.delay == 0.0  # nothing waits: the rows are given back, the run raises


def test_a_deferred_id_outside_the_batch_is_not_touched() -> None:
    """Only rows of this batch are released or retried, whatever the provider names."""
    decision = decide(BatchResult(deferred=(3, 99)))
    assert decision.retry == (3,) and decision.sent == (1, 2)
