"""What the subscriber use cases need, passed in by their callers (runtime/audience.py builds it
from the wiring): the subscriber repository, the token signer, the clock and the sign-up rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from newsletter.audience.addresses import AddressPolicy
from newsletter.domain.clock import Clock
from newsletter.domain.tokens import TokenSigner
from newsletter.store.subscribers import SubscriberRepository


@dataclass(frozen=True)
class SignupRules:
    """The `[subscribe]` timings and address policy, and the newsletter's time zone."""

    confirm_within: timedelta  # a confirmation link expires after this
    purge_pending_after: timedelta  # a sign-up never confirmed is erased after this
    resend_after: timedelta  # at most one confirmation email per this
    policy: AddressPolicy
    timezone: ZoneInfo  # an imported `consent_at` without an offset is local time here
    sections: tuple[str, ...] = ()  # the newsletter's sections, which readers may choose


@dataclass(frozen=True)
class Audience:
    """One subscriber use case's dependencies."""

    subscribers: SubscriberRepository
    # Called when a link is checked, not before: the wiring creates the secret key on first use,
    # and most use cases never need it.
    signer: Callable[[], TokenSigner]
    clock: Clock
    rules: SignupRules
