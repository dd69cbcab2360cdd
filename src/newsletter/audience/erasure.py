"""Erasing personal data: on its owner's request (GDPR), and sign-ups never confirmed."""

from __future__ import annotations

from newsletter.audience.addresses import normalise_address
from newsletter.audience.dependencies import Audience


def purge_pending(audience: Audience) -> int:
    """Erase sign-ups never confirmed within `subscribe.pending_days`; how many were erased."""
    before = audience.clock() - audience.rules.purge_pending_after
    return audience.subscribers.purge_pending(before)


def remove(audience: Audience, email: str) -> bool:
    """Erase the subscriber's personal data (GDPR); the address stays suppressed."""
    return audience.subscribers.erase(normalise_address(email), audience.clock())
