"""The links in the emails a subscriber receives: confirm a sign-up, unsubscribe."""

from __future__ import annotations

from datetime import datetime

from newsletter.audience.dependencies import Audience
from newsletter.domain.errors import TokenError
from newsletter.domain.readers import Subscriber
from newsletter.domain.tokens import CONFIRM as CONFIRM_PURPOSE
from newsletter.domain.tokens import UNSUBSCRIBE
from newsletter.store.subscribers import ConfirmOutcome


def check_confirm_token(audience: Audience, token: str) -> tuple[int, datetime]:
    """The subscriber id and issue time of a confirmation token. TokenError when forged,
    expired or meant for something else."""
    max_age = audience.rules.confirm_within
    return audience.signer().verify_issued(token, CONFIRM_PURPOSE, audience.clock(), max_age)


def confirm(audience: Audience, token: str) -> ConfirmOutcome:
    """Confirm a sign-up (the button of the confirmation page). TokenError as above."""
    subscriber_id, issued_at = check_confirm_token(audience, token)
    return audience.subscribers.confirm(subscriber_id, issued_at, audience.clock())


def unsubscribe(audience: Audience, token: str) -> bool:
    """Follow an unsubscribe link (never expires). True if the status changed; idempotent.

    TokenError when the link is forged, meant for something else, or its subscriber was
    erased: ids are never given again, so the link can only mean that nobody is left to act on.
    """
    return audience.subscribers.unsubscribe(
        check_unsubscribe_token(audience, token).id, audience.clock()
    )


def check_unsubscribe_token(audience: Audience, token: str) -> Subscriber:
    """The subscriber of an unsubscribe link. TokenError as for `unsubscribe`."""
    subscriber_id = audience.signer().verify(token, UNSUBSCRIBE, audience.clock())
    subscriber = audience.subscribers.get(subscriber_id)
    if subscriber is None:
        raise TokenError("this link belongs to an address that is no longer on the list")
    return subscriber
