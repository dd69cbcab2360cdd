"""Sign-up with double opt-in and editors' additions, each recorded with its consent.

Standing of an address and what a new sign-up does:
- new: pending, a confirmation email is owed; confirming makes it active (+ a welcome email);
- pending, unsubscribed, bounced, complained: a fresh confirmation email (at most one per
  `subscribe.resend_minutes`); the status changes only when the person follows the link, so a
  complained or unsubscribed address is never reactivated without its owner's explicit click;
- erased (only a hash is kept): treated like a new address — a new sign-up is a new, explicit
  request, and the suppression is lifted only when its owner confirms from the mailbox;
- active: nothing happens.
The answer to the requester is the same in every case, so the form reveals nothing.

The other subscriber use cases, by concern: newsletter.audience.links (confirm and unsubscribe
links), newsletter.audience.import_export (CSV import, export, personal data) and
newsletter.audience.erasure (erasure on request, purge of stale sign-ups); the address rules are
in newsletter.audience.addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from newsletter.audience.addresses import check_policy, clean_name, normalise_address
from newsletter.audience.dependencies import Audience
from newsletter.domain.errors import UsageError
from newsletter.domain.readers import ConsentMethod, ConsentRecord, Subscriber, SubscriberStatus
from newsletter.domain.segments import parse_sections_option, ticked_sections
from newsletter.store.subscribers import SignupOutcome


@dataclass(frozen=True)
class Consent:
    """Where a sign-up came from: recorded with it, as proof of consent."""

    ip: str | None
    source: str  # the form: "web-form", "web-json"
    text: str  # the version of the consent text the person saw


def consent_version(language: str, text: str) -> str:
    """A short label naming exactly the consent text shown: changes whenever the text does."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{language}:{digest}"


def request_subscription(
    audience: Audience,
    email: str,
    name: str | None,
    consent: Consent,
    sections: Iterable[str] | None = None,
) -> SignupOutcome:
    """A sign-up from the public form: validated, then one write, whatever the address's standing.

    `sections`: the boxes ticked, read as the preferences page reads them (unknown names
    dropped, all or none ticked: every section); None when the form offered none.
    Raises InvalidAddress for an address or name the form must refuse. The outcome is for logs
    and tests only: the requester must get the same answer whatever it is.
    """
    address = normalise_address(email)
    check_policy(audience.rules.policy, address)
    cleaned = clean_name(name, strict=True)
    chosen = None if sections is None else ticked_sections(sections, audience.rules.sections)
    now = audience.clock()
    return audience.subscribers.request(
        address,
        cleaned,
        now,
        resend_before=now - audience.rules.resend_after,
        consent_ip=consent.ip,
        consent_source=consent.source,
        consent_text=consent.text,
        sections=chosen,
    )


def add(
    audience: Audience,
    email: str,
    name: str | None = None,
    confirmed: bool = False,
    *,
    by: str = "cli",
    source: str = "cli",
    sections: str = "",
) -> tuple[Subscriber, bool]:
    """An editor adds a subscriber: active when they vouch for consent, else pending (and owed a
        confirmation email). `by` (the editor, or the OS user) and `source` (desk, cli) are kept as
        the consent record of a new subscriber. `sections`: "A,B", the sections they receive (every
    section when empty); an unknown section is a UsageError."""
    address = normalise_address(email)
    chosen = parse_sections_option(sections, audience.rules.sections)
    if audience.subscribers.is_suppressed(address):
        raise UsageError(f"{address} was erased at its owner's request and stays suppressed")
    status = SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING
    now = audience.clock()
    consent = ConsentRecord(ConsentMethod.EDITOR, recorded_at=now, source=source, by=by)
    return audience.subscribers.add(
        address, clean_name(name), status, now, consent=consent, sections=chosen
    )
