"""What the ledger records after one provider call: decided here, applied by the send loop.

`decide_batch` is pure: given the batch still to send, the provider's answer (its BatchResult,
or the error it raised), how many retries the batch already had and whether the run is
stopping, it returns the ledger intents (which rows become sent, failed or uncertain, which go
back to pending and from when) and what the loop does next (done, wait and retry, stop, or
raise). newsletter.deliver.send does the I/O.

The ledger's rule: a row is `sending` only while a request for it is in flight. An answer that
refuses (429, 5xx, a 4xx to retry) is definite: the rows go back to `pending` before any wait,
not to be claimed before the wait is over, so a process killed while waiting leaves nothing
`uncertain`. Only a provider that reports an answer lost makes rows `uncertain`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from newsletter.domain.delivery import BatchResult
from newsletter.domain.errors import PermanentProviderError, TransientProviderError

Answer = BatchResult | TransientProviderError | PermanentProviderError


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of transient provider errors: exponential backoff with jitter."""

    attempts: int = 6  # provider calls per batch before the run gives up
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    max_retry_after: float = 300.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        if retry_after is not None:
            # The provider said when: wait that long, plus a little so workers do not stampede.
            return min(self.max_retry_after, retry_after) + rng.uniform(0, self.base_seconds)
        backoff = min(self.max_seconds, self.base_seconds * 2.0**retry)
        return backoff / 2 + rng.uniform(0, backoff / 2)


class Next(StrEnum):
    """What the loop does once the intents are applied."""

    DONE = "done"  # nothing of the batch is left: claim the next one
    RETRY = "retry"  # wait `delay`, claim `retry` again (renew), call the provider again
    STOP = "stop"  # the run is stopping: the deferred rows were given back
    GIVE_UP = "give_up"  # retries exhausted: raise TransientProviderError (rows given back)
    REFUSED = "refused"  # the provider refuses everything: re-raise its error (rows given back)


@dataclass(frozen=True)
class BatchDecision:
    """The ledger intents for one provider answer, and what comes next."""

    next: Next
    sent: tuple[int, ...] = ()
    failed: Mapping[int, str] = field(default_factory=dict)
    uncertain: Mapping[int, str] = field(default_factory=dict)
    # Back to pending (the provider did not take them), not claimed before `delay` seconds.
    release: tuple[int, ...] = ()
    retry: tuple[int, ...] = ()  # released rows this run claims again after waiting `delay`
    delay: float = 0.0
    error: str = ""  # the provider's last transient error (for GIVE_UP's message)
    retry_after: float | None = None

    @property
    def records(self) -> bool:
        """Whether the provider settled any row (the ledger has outcomes to write)."""
        return bool(self.sent or self.failed or self.uncertain)


def decide_batch(
    ids: Sequence[int],
    answer: Answer,
    *,
    retries: int,
    policy: RetryPolicy,
    stopping: bool,
    rng: random.Random,
) -> BatchDecision:
    """The intents for the batch `ids` (the rows still held) after the provider's `answer`.

    `retries` is how many times this batch was already retried (0 on its first call).
    """
    if isinstance(answer, PermanentProviderError):
        return BatchDecision(Next.REFUSED, release=tuple(ids))
    if isinstance(answer, TransientProviderError):
        answer = BatchResult(
            deferred=tuple(ids), deferred_error=str(answer), retry_after=answer.retry_after
        )
    deferred = set(answer.deferred)
    settled = deferred | answer.failed.keys() | answer.uncertain.keys()
    sent = tuple(i for i in ids if i not in settled)
    if not deferred:
        return BatchDecision(Next.DONE, sent, answer.failed, answer.uncertain)
    still = tuple(i for i in ids if i in deferred)
    release: tuple[int, ...] = ()
    retry: tuple[int, ...] = ()
    delay = 0.0
    if stopping:
        next_step, release = Next.STOP, still
    elif retries + 1 >= policy.attempts:
        next_step, release = Next.GIVE_UP, still
    else:
        next_step, release, retry = Next.RETRY, still, still
        delay = policy.delay(retries, answer.retry_after, rng)
    return BatchDecision(
        next_step,
        sent,
        answer.failed,
        answer.uncertain,
        release=release,
        retry=retry,
        delay=delay,
        error=answer.deferred_error,
        retry_after=answer.retry_after,
    )
