"""Address rules: what an email address and a display name must be to enter the list (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from newsletter.domain.errors import InvalidAddress
from newsletter.render.headers import display_text

MAX_NAME = 200
MAX_ADDRESS = 320

# Local parts that name a function rather than a person: lists are not for them.
ROLE_LOCAL_PARTS = frozenset(
    """abuse admin administrator billing compliance contact devnull dns ftp hostmaster info
    mailer-daemon marketing no-reply noc noreply null office postmaster privacy root sales
    security spam support sysadmin team usenet uucp webmaster www""".split()  # noqa: SIM905
)

# Throw-away mailbox services (extended by `subscribe.disposable_domains`).
DISPOSABLE_DOMAINS = frozenset(
    """10minutemail.com 20minutemail.com discard.email dispostable.com emailondeck.com
    fakeinbox.com getnada.com guerrillamail.com guerrillamail.net guerrillamailblock.com
    jetable.org mailcatch.com maildrop.cc mailinator.com mailnesia.com mintemail.com
    mohmal.com sharklasers.com spamgourmet.com temp-mail.org tempail.com tempmail.com
    tempr.email throwawaymail.com trashmail.com trashmail.de yopmail.com yopmail.fr
    yopmail.net""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the sign-up form refuses (`[subscribe]` of the configuration)."""

    refuse_role_addresses: bool = False
    refuse_disposable: bool = False
    disposable_domains: frozenset[str] = frozenset()  # added to DISPOSABLE_DOMAINS


def normalise_address(raw: str) -> str:
    """A deliverable-looking address in canonical form: lowercased, IDN domain as ASCII.

    The local part is lowercased too: providers treat it case-insensitively in practice, and
    `Jean@x.fr` and `jean@x.fr` must be one subscriber. Control characters are refused, so an
    address can never inject a header. A local part must be ASCII: `zoé@exemple.fr` (SMTPUTF8)
    cannot be written in the To header of our copies, and most providers cannot take it, so it
    is refused here, at sign-up, import and add, rather than failed at every send.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise InvalidAddress(
            "an email address cannot contain line breaks or control characters", "control"
        )
    candidate = raw.strip()
    if not candidate:
        raise InvalidAddress("the email address is empty", "empty")
    if len(candidate) > MAX_ADDRESS:
        raise InvalidAddress(f"an email address has at most {MAX_ADDRESS} characters", "too_long")
    try:
        valid = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(
            f"{candidate!r} is not a valid email address: {exc}", _problem(candidate, str(exc))
        ) from None
    local, _, _ = valid.normalized.rpartition("@")
    return f"{local.lower()}@{valid.ascii_domain.lower()}"


def mask_address(address: str) -> str:
    """An address shown to whoever holds a link to it: enough for its owner to recognise it,
    not enough to read it (`jean.dupont@exemple.fr` -> `j•••t@exemple.fr`)."""
    local, _, domain = address.rpartition("@")
    hidden = local[0] + "•••" + (local[-1] if len(local) > 2 else "") if local else "•••"
    return f"{hidden}@{domain}"


def clean_name(raw: str | None, strict: bool = False) -> str | None:
    """A display name on one line, stored as every email shows it (`headers.display_text`:
    no bidi controls, no encoded-word syntax). `strict` (web sign-ups) refuses line breaks."""
    if raw is None:
        return None
    if strict and ("\r" in raw or "\n" in raw):
        raise InvalidAddress("a name cannot contain line breaks", "name_lines")
    name = " ".join(raw.split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidAddress("a name cannot contain control characters", "name_control")
    return display_text(name, MAX_NAME) or None


def check_policy(policy: AddressPolicy, address: str) -> None:
    """Refuse role or disposable addresses when the configuration says so."""
    local, _, domain = address.rpartition("@")
    if policy.refuse_role_addresses and local.lower() in ROLE_LOCAL_PARTS:
        raise InvalidAddress(
            f"{local}@ is a shared role address; please subscribe with a personal address",
            "role",
        )
    if policy.refuse_disposable:
        disposable = DISPOSABLE_DOMAINS | policy.disposable_domains
        labels = domain.split(".")
        if any(".".join(labels[i:]) in disposable for i in range(len(labels) - 1)):
            raise InvalidAddress(f"{domain} is a disposable mailbox service", "disposable")


def _problem(candidate: str, library_message: str) -> str:
    """Which part of an address the validator refused, as an `InvalidAddress` code: the
    library's own words (English) never reach a reader."""
    local, at, domain = candidate.rpartition("@")
    if not at:
        return "no_at"
    if not local:
        return "no_local"
    if not domain:
        return "no_domain"
    text = library_message.lower()
    if "internationalized characters before the @" in text:
        return "non_ascii_local"
    if "after the @" in text or "domain" in text:
        return "bad_domain"
    if "before the @" in text or "local part" in text:
        return "bad_local"
    return "syntax"
