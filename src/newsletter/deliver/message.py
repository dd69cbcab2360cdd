"""One recipient's copy as a MIME message: text + HTML alternatives, list headers.

`copy_bytes` builds a copy with the email package: serialised, its header block parsed back
and compared with what was meant, and a copy whose headers differ (an added Bcc, a changed To,
an overlong line) is refused, never sent. It is the reference: the providers that hand over
whole messages (file, smtp) make the same bytes by substitution (deliver/copies.py) from the
headers defined here (`shared_headers`, `personal_headers`).

Outside text in headers (names, subject) goes through `headers.display_text`, then is written
by `headers.text_header` / `address_header` (plain ASCII, or RFC 2047 words for French subjects
and names). The list headers (`List-Unsubscribe`, `List-Id`, ...) are written as built, plain
ASCII, folded only between URIs: never encoded. Bodies are quoted-printable UTF-8 so no line
exceeds 998 octets.
"""

from __future__ import annotations

import binascii
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP
from email.policy import default as parsing_policy
from email.utils import format_datetime
from typing import Any

from newsletter.deliver.base import Sender
from newsletter.domain.delivery import Recipient, RenderedMessage
from newsletter.domain.errors import InvalidAddress, UnsafeHeaders
from newsletter.render.headers import (
    LINE_LIMIT,
    NAME_LIMIT,
    ONE_CLICK,
    address_header,
    display_text,
    feedback_id,
    folded_uri_list,
    is_plain_header_value,
    list_id,
    mail_domain,
    slug,
    text_header,
    unsubscribe_uris,
    uri_list,
)
from newsletter.render.personalise import PersonalCopy, personalise, reader_name

ISSUE_HEADER = "X-Newsletter-Issue"
DELIVERY_HEADER = "X-Newsletter-Delivery"
LIST_UNSUBSCRIBE = "List-Unsubscribe"

# Every header is stored with `set_raw` and written exactly as given (see `copy_headers`):
# the email package folds and encodes nothing of ours.
_WIRE_POLICY = SMTP.clone(refold_source="none")


def unsubscribe_headers(recipient: Recipient, sender: Sender) -> dict[str, str]:
    """RFC 2369 + RFC 8058 one-click unsubscribe headers of one copy, each on one line."""
    return _plain(
        {
            LIST_UNSUBSCRIBE: uri_list(_unsubscribe_uris(recipient, sender)),
            "List-Unsubscribe-Post": ONE_CLICK,
        }
    )


def list_headers(message: RenderedMessage, sender: Sender) -> dict[str, str]:
    """`List-Id` and `Feedback-ID`: the same for every copy of a message."""
    domain = mail_domain(sender.email, sender.base_url)
    kind = message.categories[0] if message.categories else "newsletter"
    campaign = f"issue-{message.issue_id}" if message.issue_id is not None else kind
    return _plain(
        {
            "List-Id": list_id(sender.list_name, domain),
            "Feedback-ID": feedback_id(campaign, slug(sender.list_name), kind, domain),
        }
    )


@dataclass(frozen=True)
class CopyStamp:
    """What the copies of one message share that no one can guess: the MIME boundary and the
    Message-ID prefix (made unique per copy by the issue and delivery ids)."""

    boundary: str
    message_ids: str

    @classmethod
    def fresh(cls) -> CopyStamp:
        return cls(f"nl-{secrets.token_hex(16)}", f"{time.time_ns()}.{secrets.token_hex(6)}")


# The top-level headers of a copy, in the order they are written.
HEADER_ORDER = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    LIST_UNSUBSCRIBE,
    "List-Unsubscribe-Post",
    "List-Id",
    "Feedback-ID",
    ISSUE_HEADER,
    DELIVERY_HEADER,
    "MIME-Version",
    "Content-Type",
)


def copy_bytes(
    message: RenderedMessage,
    recipient: Recipient,
    sender: Sender,
    now: datetime | None = None,
    stamp: CopyStamp | None = None,
) -> bytes:
    """The copy for `recipient` built by the email package, its headers parsed back and checked.

    The reference the fast copies (deliver/copies.py) are byte-for-byte equal to, given the
    same `now` and `stamp`. InvalidAddress if an address cannot be written, UnsafeHeaders if
    the written headers would not read back as exactly the ones meant: in both cases nothing
    is to be sent.
    """
    copy = personalise(message, recipient)
    headers = copy_headers(message, copy, recipient, sender, now, stamp)
    data = assemble(headers, copy).as_bytes()
    check_headers(data, headers, recipient.email)
    return data


@dataclass(frozen=True)
class Header:
    """One header of a copy: as written on the wire, and what a reader must read back."""

    name: str
    wire: str  # folded with "\n " (the serialiser writes CRLF)
    meaning: object


def copy_headers(
    message: RenderedMessage,
    copy: PersonalCopy,
    recipient: Recipient,
    sender: Sender,
    now: datetime | None = None,
    stamp: CopyStamp | None = None,
) -> list[Header]:
    """Every top-level header of `recipient`'s copy, in order. InvalidAddress, UnsafeHeaders."""
    stamp = stamp or CopyStamp.fresh()
    headers = {
        **shared_headers(message, sender, stamp),
        "Subject": subject_header(copy.subject),
        "Date": date_header(now or datetime.now(UTC)),
        **personal_headers(message, recipient, sender, stamp),
    }
    return [headers[name] for name in HEADER_ORDER if name in headers]


def shared_headers(message: RenderedMessage, sender: Sender, stamp: CopyStamp) -> dict[str, Header]:
    """The headers every copy of `message` has in common, by name (not Subject and Date)."""
    headers = {
        "From": _address("From", display_text(sender.name, NAME_LIMIT), sender.email, ""),
        "List-Unsubscribe-Post": _plain_header("List-Unsubscribe-Post", ONE_CLICK),
    }
    for name, value in list_headers(message, sender).items():
        headers[name] = _plain_header(name, value)
    if message.issue_id is not None:
        headers[ISSUE_HEADER] = _plain_header(ISSUE_HEADER, str(message.issue_id))
    headers["MIME-Version"] = _plain_header("MIME-Version", "1.0")
    headers["Content-Type"] = Header(
        "Content-Type",
        f'multipart/alternative;\n boundary="{stamp.boundary}"',
        ("multipart/alternative", (("boundary", stamp.boundary),)),
    )
    return headers


def personal_headers(
    message: RenderedMessage, recipient: Recipient, sender: Sender, stamp: CopyStamp
) -> dict[str, Header]:
    """The headers that name the recipient, by name: To, Message-ID, List-Unsubscribe and
    X-Newsletter-Delivery (when the copy has a delivery). InvalidAddress, UnsafeHeaders."""
    uris = _unsubscribe_uris(recipient, sender)
    unsubscribe = _plain_header(LIST_UNSUBSCRIBE, uri_list(uris))
    message_id = f"<{stamp.message_ids}.{message.issue_id or 0}.{recipient.delivery_id}@"
    headers = {
        "To": _address("To", reader_name(recipient.name), recipient.email, recipient.email),
        "Message-ID": _plain_header("Message-ID", f"{message_id}{sender_domain(sender)}>"),
        LIST_UNSUBSCRIBE: Header(
            LIST_UNSUBSCRIBE, folded_uri_list(LIST_UNSUBSCRIBE, uris), unsubscribe.meaning
        ),
    }
    if recipient.delivery_id:
        headers[DELIVERY_HEADER] = _plain_header(DELIVERY_HEADER, str(recipient.delivery_id))
    return headers


def subject_header(subject: str) -> Header:
    """Subject, from the (personalised) subject text."""
    text = display_text(subject)
    return Header("Subject", text_header("Subject", text), squeezed(text))


def date_header(now: datetime) -> Header:
    return _plain_header("Date", format_datetime(now))


def check_headers(data: bytes, meant: list[Header], recipient: str = "") -> None:
    """Parse the header block of `data` back and compare it with the headers meant.

    The same names in the same order, each reading back as meant (addresses by display name
    and address, the rest by decoded text), and no line over 998 octets; else UnsafeHeaders.
    """
    block, _, _ = data.partition(b"\r\n\r\n")
    who = f"the copy to {recipient}" if recipient else "the copy"
    if any(len(line) > LINE_LIMIT for line in block.split(b"\r\n")):
        raise UnsafeHeaders(
            f"{who} not sent: a header line is over {LINE_LIMIT} octets",
            recipient=recipient or None,
        )
    expected = [(header.name.lower(), header.meaning) for header in meant]
    try:
        parsed = BytesHeaderParser(policy=parsing_policy).parsebytes(block + b"\r\n\r\n")
        found = [(name.lower(), _meaning(value)) for name, value in parsed.items()]
    except Exception as exc:  # the email package's parser fails in many ways on garbage
        raise UnsafeHeaders(
            f"{who} not sent: its headers cannot be read back ({exc})", recipient=recipient or None
        ) from None
    if expected == found:
        return
    added = sorted({n for n, _ in found} - {n for n, _ in expected})
    missing = sorted({n for n, _ in expected} - {n for n, _ in found})
    changed = sorted({n for n, v in expected if (n, v) not in found} - set(missing))
    details = "; ".join(
        f"{label}: {', '.join(names)}"
        for label, names in (("added", added), ("missing", missing), ("changed", changed))
        if names
    )
    raise UnsafeHeaders(
        f"{who} not sent: its headers would not be the ones meant ({details})",
        recipient=recipient or None,
    )


def assemble(headers: list[Header], copy: PersonalCopy) -> EmailMessage:
    """The MIME message of these headers (written as they are) and the copy's two parts."""
    email = EmailMessage(policy=_WIRE_POLICY)
    for header in headers:
        email.set_raw(header.name, header.wire)
    email.attach(_quoted_printable(copy.text, "plain"))
    email.attach(_quoted_printable(copy.html, "html"))
    return email


def _address(name: str, display_name: str, addr_spec: str, recipient: str) -> Header:
    try:
        wire = address_header(name, display_name, addr_spec)
    except ValueError as exc:
        raise InvalidAddress(str(exc), address=recipient or None) from None
    return Header(name, wire, ((squeezed(display_name), addr_spec),))


def _plain_header(name: str, value: str) -> Header:
    if not is_plain_header_value(value):
        raise UnsafeHeaders(f"{name} cannot be written as plain ASCII: {value!r}")
    return Header(name, value, squeezed(value))


def _meaning(header: Any) -> object:
    """What a parsed header says, independent of how it was encoded or folded.

    Text is compared without its spaces: Python's parser puts one between adjacent encoded
    words of a display name, which RFC 2047 says to drop. A space is not a header: a line
    break that matters shows up as an added, missing or changed header.
    """
    addresses = getattr(header, "addresses", None)
    if addresses is not None:
        return tuple((squeezed(a.display_name), a.addr_spec) for a in addresses)
    content_type = getattr(header, "content_type", None)
    if content_type is not None:
        return (content_type, tuple(sorted(header.params.items())))
    return squeezed(str(header))


def squeezed(text: str) -> str:
    return "".join(text.split())


def _unsubscribe_uris(recipient: Recipient, sender: Sender) -> list[str]:
    try:
        return unsubscribe_uris(recipient.unsubscribe_url, sender.unsubscribe_mailto)
    except ValueError as exc:
        raise UnsafeHeaders(
            f"the copy to {recipient.email} not sent: {exc}", recipient=recipient.email
        ) from None


def _plain(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        _plain_header(name, value)
    return headers


def _quoted_printable(body: str, subtype: str) -> EmailMessage:
    """A UTF-8 text part, quoted-printable encoded by binascii's C encoder.

    The email package's own encoder is pure Python and cost ~6 ms per 40 KB digest copy, the
    largest cost of a file or SMTP send; the output is the same standard encoding.
    """
    part = EmailMessage(policy=SMTP)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(quoted_printable(body).decode("ascii"))
    return part


def quoted_printable(text: str) -> bytes:
    """`text` as UTF-8, quoted-printable encoded by binascii's C encoder (soft line breaks keep
    lines under 77 characters; line ends stay as they are)."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True)


def sender_domain(sender: Sender) -> str:
    return sender.email.rpartition("@")[2] or "localhost"
