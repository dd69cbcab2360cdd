"""Each recipient's copy made from a message built once: bytes substituted, no email package.

`copy_bytes` (deliver/message.py) builds a copy with the email package and parses its headers
back: ~50x the cost of what a copy really differs by. `CopyTemplate` runs that same code once
per message, with markers where the copies differ, and keeps the bytes around them. A copy is
then the joined bytes plus, for each marker:

- a header that names the recipient (To, Message-ID, List-Unsubscribe, X-Newsletter-Delivery;
  Subject when it holds a placeholder; Date, once per batch): written by the very functions
  `copy_headers` uses, as `Name: value` with its folds turned into CRLF, which is what the
  email package writes for a raw header of printable ASCII lines;
- a body line holding placeholders (`%%...%%`), filled by `personalise.fill` and encoded on
  its own. The bodies are quoted-printable, whose encoder restarts at every line end: the
  encoding of a text is the encodings of its lines (each with its line end) joined, once line
  ends are written CRLF as the email package writes them. So the lines without a placeholder
  are encoded once, and a placeholder is never split by a soft line break nor encoded, because
  its value is substituted before its line is encoded, never after; even in such a line, only
  the part from a little before the first placeholder to a little after the last one is
  encoded per copy (deliver/quoted_lines.py).

The result is byte-for-byte `copy_bytes` given the same `now` and `CopyStamp`
(tests/test_copies.py checks it on hostile names, accents, long and folded values).

Header check, per copy. `copy_bytes` parses the whole header block back and compares it with
the headers meant (the same names in the same order, each meaning what was meant, no line
over 998 octets). Here the block is the template's, whose fixed headers are the same bytes
in every copy, plus the per-copy values; so it is enough to check each per-copy value:
- every line is printable ASCII, continuation lines start with a space and hold something, and
  no line is over 998 octets: then the value cannot end its header, start another or end the
  header block, nor be read as part of its neighbours (each starts a line with its name), so
  the names, their order and the fixed headers' meanings are the template's;
- the value decodes (with the email package's `getaddresses` and `decode_header`) to exactly
  what was meant: the display name and address, the subject text, the plain text. (The
  package's header-policy parser, which `check_headers` uses, costs ~0.5 ms per address
  header: more than the rest of a copy.)
The first copy of each template is still checked whole by `check_headers`, which covers the
fixed headers as they stand in a real copy.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.utils import getaddresses

from newsletter.deliver.base import Sender
from newsletter.deliver.message import (
    DELIVERY_HEADER,
    HEADER_ORDER,
    LIST_UNSUBSCRIBE,
    CopyStamp,
    Header,
    assemble,
    check_headers,
    date_header,
    personal_headers,
    shared_headers,
    squeezed,
    subject_header,
)
from newsletter.deliver.quoted_lines import PersonalLine, encoded
from newsletter.domain.delivery import Recipient, RenderedMessage
from newsletter.domain.errors import InvalidAddress, UnsafeHeaders
from newsletter.render.headers import LINE_LIMIT
from newsletter.render.personalise import PersonalCopy, fill, html_values, values_for

_PER_COPY = ("To", "Date", "Message-ID", LIST_UNSUBSCRIBE, DELIVERY_HEADER)
_ADDRESSES = ("From", "To")


@dataclass(frozen=True)
class _Slot:
    """Where a copy differs: a header (`name`), or a body line of the text or HTML part."""

    kind: str  # "header" | "text" | "html"
    value: str  # the header's name, or the part's body (as given to `_skeleton`)
    line: PersonalLine | None = None  # a body line with placeholders


class CopyTemplate:
    """The copies of one message from one sender, built once (see the module docstring).

    Never raises: a message whose fixed headers cannot be written (a sender address that
    cannot) keeps the error, and each `copy` raises it.
    """

    def __init__(
        self, message: RenderedMessage, sender: Sender, stamp: CopyStamp | None = None
    ) -> None:
        self.message = message
        self.sender = sender
        self.stamp = stamp or CopyStamp.fresh()
        self._personal_subject = "%%" in message.subject
        self._date: tuple[datetime, Header] | None = None
        self._checked = False  # the first copy is checked whole
        self._pieces: list[bytes | _Slot] = []
        self._shared: dict[str, Header] = {}
        self._error: InvalidAddress | UnsafeHeaders | None = None
        try:
            self._shared = shared_headers(message, sender, self.stamp)
            if not self._personal_subject:
                self._shared["Subject"] = subject_header(message.subject)
            self._pieces = self._skeleton()
        except (InvalidAddress, UnsafeHeaders) as exc:
            self._error = exc

    def copy(self, recipient: Recipient, now: datetime) -> bytes:
        """`copy_bytes(message, recipient, sender, now, stamp)`, made by substitution.

        InvalidAddress or UnsafeHeaders (nothing is to be sent) as `copy_bytes` raises them.
        """
        if self._error is not None:
            raise self._error
        who = f"the copy to {recipient.email}"
        values = values_for(self.message, recipient)
        headers = personal_headers(self.message, recipient, self.sender, self.stamp)
        headers["Date"] = self._date_header(now)
        if self._personal_subject:
            headers["Subject"] = subject_header(fill(self.message.subject, values))
        for header in headers.values():
            check_value(header, who)
        escaped = html_values(values)
        out: list[bytes] = []
        for piece in self._pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            elif piece.kind == "header":
                if piece.value in headers:
                    out.append(header_line(headers[piece.value]))
            elif piece.line is not None:
                out.append(piece.line.encoded(escaped if piece.kind == "html" else values))
        data = b"".join(out)
        if not self._checked:
            meant = {**self._shared, **headers}
            check_headers(
                data, [meant[name] for name in HEADER_ORDER if name in meant], recipient.email
            )
            self._checked = True
        return data

    def _date_header(self, now: datetime) -> Header:
        cached = self._date
        if cached is None or cached[0] != now:
            header = date_header(now)
            check_value(header, "the copy")
            cached = self._date = (now, header)
        return cached[1]

    def _skeleton(self) -> list[bytes | _Slot]:
        """The email package's copy with markers where copies differ, cut at the markers."""
        nonce = secrets.token_hex(8)
        markers: list[tuple[bytes, _Slot]] = []
        headers: list[Header] = []
        for number, name in enumerate(HEADER_ORDER):
            if name in self._shared:
                headers.append(self._shared[name])
            elif name in _PER_COPY or name == "Subject":
                value = f"slot{number}x{nonce}"
                headers.append(Header(name, value, value))
                markers.append((f"{name}: {value}\r\n".encode("ascii"), _Slot("header", name)))
        text, html = f"bodytext{nonce}", f"bodyhtml{nonce}"
        data = assemble(headers, PersonalCopy("", html=html, text=text)).as_bytes()
        markers += [
            (text.encode("ascii"), _Slot("text", self.message.text)),
            (html.encode("ascii"), _Slot("html", self.message.html)),
        ]
        pieces: list[bytes | _Slot] = []
        for marker, slot in markers:
            before, found, data = data.partition(marker)
            if not found:
                raise UnsafeHeaders(f"the copies cannot be built: the {slot.kind} was not written")
            body = [slot] if slot.kind == "header" else _body_pieces(slot.value, slot.kind)
            pieces += [before, *body]
        pieces.append(data)
        return _merged(pieces)


def wire_copies(
    template: CopyTemplate,
    recipients: Sequence[Recipient],
    now: datetime,
    failed: dict[int, str],
) -> Iterator[tuple[int, Recipient, bytes]]:
    """Each recipient's copy as it goes on the wire, with the recipient's index in `recipients`.

    A copy that cannot be written is recorded in `failed` (by delivery id) and skipped: nothing
    of it went, so it is a failure, never uncertain.
    """
    for index, recipient in enumerate(recipients):
        try:
            yield index, recipient, template.copy(recipient, now)
        except (InvalidAddress, UnsafeHeaders) as exc:
            failed[recipient.delivery_id] = str(exc)


def template_for(
    cached: CopyTemplate | None, message: RenderedMessage, sender: Sender
) -> CopyTemplate:
    """`cached` when it was built for this very message and sender, else a new template."""
    if cached is not None and cached.message is message and cached.sender == sender:
        return cached
    return CopyTemplate(message, sender)


def check_value(header: Header, who: str) -> None:
    """UnsafeHeaders unless `header` stays one header of printable ASCII lines of at most
    998 octets that decodes to what it means (see the module docstring)."""
    lines = f"{header.name}: {header.wire}".split("\n")
    if any(len(line) > LINE_LIMIT for line in lines):
        raise UnsafeHeaders(f"{who} not sent: a header line is over {LINE_LIMIT} octets")
    confined = all(line.isascii() and line.isprintable() for line in lines) and all(
        line[:1] == " " and line.strip() for line in lines[1:]
    )
    if not confined or _decoded(header) != header.meaning:
        raise UnsafeHeaders(
            f"{who} not sent: its headers would not be the ones meant "
            f"(changed: {header.name.lower()})"
        )


def header_line(header: Header) -> bytes:
    """`Name: value` CRLF, its folds written CRLF: what the email package writes for it."""
    return f"{header.name}: {header.wire}\n".replace("\n", "\r\n").encode("ascii")


def _decoded(header: Header) -> object:
    unfolded = header.wire.replace("\n", "")
    if header.name in _ADDRESSES:
        return tuple((squeezed(_text(name)), address) for name, address in getaddresses([unfolded]))
    if header.name == "Subject":
        return squeezed(_text(unfolded))
    return squeezed(unfolded) if "=?" not in unfolded else None


def _text(value: str) -> str:
    return str(make_header(decode_header(value))) if "=?" in value else value


def _body_pieces(body: str, kind: str) -> list[bytes | _Slot]:
    """The body's lines: runs without a placeholder encoded once, the others slots."""
    pieces: list[bytes | _Slot] = []
    run: list[str] = []
    lines = body.split("\n")
    for number, line in enumerate(lines):
        if number < len(lines) - 1:
            line += "\n"
        if "%%" in line:
            pieces += [encoded("".join(run)), _Slot(kind, "", PersonalLine(line))]
            run = []
        else:
            run.append(line)
    pieces.append(encoded("".join(run)))
    return pieces


def _merged(pieces: list[bytes | _Slot]) -> list[bytes | _Slot]:
    """Adjacent bytes joined, empty ones dropped."""
    merged: list[bytes | _Slot] = []
    for piece in pieces:
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        elif piece != b"":
            merged.append(piece)
    return merged
