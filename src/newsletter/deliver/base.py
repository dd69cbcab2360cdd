"""The provider interface every way of sending email implements."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from newsletter.domain.delivery import BatchResult, Recipient, RenderedMessage


@dataclass(frozen=True)
class Sender:
    """Who sends, and what every copy's list headers are made of."""

    email: str
    name: str
    base_url: str
    newsletter: str = ""  # the list's name (List-Id, Feedback-ID); the sender name if empty
    unsubscribe_mailto: str = ""  # an address for List-Unsubscribe's mailto:, or none

    @property
    def list_name(self) -> str:
        return self.newsletter or self.name


class Journal(Protocol):
    """Where a provider that sends copy by copy (`CopyByCopy`) notes each copy as it goes, so
    that a process killed mid-batch leaves only the copies in flight uncertain."""

    def transmitting(self, delivery_id: int) -> None:
        """The copy's body is about to go: from now until its reply, it may be taken. Raises
        (ClaimLost) when the copy is no longer this sender's to send."""
        ...

    def answered(self, delivery_id: int, accepted: bool) -> None:
        """The copy's reply was read: taken (`accepted`) or refused."""
        ...


class Provider(Protocol):
    """Sends one message, rendered once, to a batch of recipients.

    `send_batch` returns the recipients refused for good (by delivery id, with the reason);
    it raises `TransientProviderError` when the whole batch may be retried later and
    `PermanentProviderError` when nothing can be sent (bad credentials, bad configuration).
    Every copy carries the recipient's `List-Unsubscribe` and `List-Unsubscribe-Post` headers,
    `List-Id` and `Feedback-ID` (deliver/message.py), as plain ASCII.
    """

    name: str
    batch_size: int

    def send_batch(
        self, message: RenderedMessage, recipients: Sequence[Recipient]
    ) -> BatchResult: ...

    def check(self) -> str:
        """Prove the provider can work (credentials, reachability) without sending anything.

        Returns a one-line description; raises ProviderError saying what is wrong.
        """
        ...

    def close(self) -> None: ...


@runtime_checkable
class CopyByCopy(Protocol):
    """A provider that sends a batch one copy after another (SMTP) and can note each in a
    journal. The send loop hands it the batch unstarted; any other provider's batch is in
    flight from the start of its `send_batch`."""

    def send_journaled(
        self, message: RenderedMessage, recipients: Sequence[Recipient], journal: Journal
    ) -> BatchResult: ...


@runtime_checkable
class Traceable(Protocol):
    """A provider that can tell afterwards which copies went (the file outbox: a copy went if
    its file is there). The copies a dead sender left in flight are then settled, sent or
    pending again, instead of `uncertain`."""

    def delivered(self, issue_id: int, delivery_ids: Collection[int]) -> set[int]: ...
