"""A provider that keeps every copy in memory: for tests and `--dry-run`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from newsletter.deliver.base import Sender
from newsletter.deliver.message import list_headers, unsubscribe_headers
from newsletter.domain.delivery import BatchResult, Recipient, RenderedMessage
from newsletter.domain.errors import TransientProviderError, UnsafeHeaders
from newsletter.render.personalise import PersonalCopy, personalise


@dataclass(frozen=True)
class SentCopy:
    recipient: Recipient
    copy: PersonalCopy
    headers: dict[str, str]


@dataclass
class MemoryProvider:
    sender: Sender
    batch_size: int = 100
    name: str = "memory"
    sent: list[SentCopy] = field(default_factory=list)
    batches: int = 0
    refuse: set[str] = field(default_factory=set)  # addresses refused for good
    fail_next: int = 0  # this many next batches fail with a transient error

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientProviderError("simulated outage", provider=self.name)
        self.batches += 1
        failed: dict[int, str] = {}
        for recipient in recipients:
            if recipient.email in self.refuse:
                failed[recipient.delivery_id] = "refused by the memory provider"
                continue
            try:
                headers = {
                    **unsubscribe_headers(recipient, self.sender),
                    **list_headers(message, self.sender),
                }
            except UnsafeHeaders as exc:
                failed[recipient.delivery_id] = str(exc)
                continue
            self.sent.append(SentCopy(recipient, personalise(message, recipient), headers))
        return BatchResult(failed=failed)

    def check(self) -> str:
        return "memory (nothing leaves this process)"

    def close(self) -> None:
        pass

    def to(self, email: str) -> list[SentCopy]:
        return [copy for copy in self.sent if copy.recipient.email == email]
