"""Mail header values: outside text made safe to show, written on the wire by rules of our own.

Pure functions, no I/O. Every header value that holds text from outside (a reader's name, a
subject made from feed or editor text, the sender name from the configuration) goes through
`display_text` at the header boundary, whatever the provider. The list headers
(`List-Unsubscribe`, `List-Id`, `Feedback-ID`) are built here as plain ASCII so that they
travel unencoded: providers and mailbox software read them as URIs and ids, not as RFC 2047
encoded words.

`text_header` and `address_header` write subjects and addresses themselves (plain ASCII folded
at spaces, or whole RFC 2047 base64 words) rather than through the email package's folder,
whose output varies between Python versions and, in some, breaks encoded words in two or
writes a decoded line break into the header.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

NAME_LIMIT = 200  # characters of a reader's name shown in To: and in the email
SUBJECT_LIMIT = 300  # characters of a subject
LINE_LIMIT = 998  # octets of a header line, CRLF excluded (RFC 5322 2.1.1)
FOLD_WIDTH = 78  # a folded list header keeps its lines this short when it can

ONE_CLICK = "List-Unsubscribe=One-Click"

# Joiners shape several scripts (Persian, Indic) and emoji sequences: kept. Every other format
# character (bidi embeddings, overrides, isolates and marks, zero-width spaces, BOM) is removed.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_ENCODED_WORD_START = "=?"
_ENCODED_WORD_END = "?="
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$")
_ID_PART = re.compile(r"[^a-z0-9]+")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(rf"^{_ATOM}(\.{_ATOM})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
ENCODED_LINE_LIMIT = 76  # a line holding an encoded word (RFC 2047 section 2)


def display_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """`value` reduced to text that is safe to put in a header and to show.

    One line (every line break and control character becomes a space, runs of spaces one),
    no bidi controls or other invisible format characters, no RFC 2047 encoded-word syntax
    kept verbatim (`=?` and `?=` are broken up, so no mail program decodes outside text into
    header lines, and the email package's folder never mistakes it for its own encoding), at
    most `limit` characters. Idempotent.
    """
    text = unicodedata.normalize("NFC", value)
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif (category == "Cf" and char not in _KEPT_FORMAT) or category == "Cs":
            continue
        else:
            kept.append(char)
    text = " ".join("".join(kept).split())
    text = text.replace(_ENCODED_WORD_START, "= ?").replace(_ENCODED_WORD_END, "? =")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def is_plain_header_value(value: str) -> bool:
    """Printable ASCII on one line, with no encoded-word syntax: written to the wire as it is."""
    return bool(_PRINTABLE_ASCII.match(value)) and _ENCODED_WORD_START not in value


def unsubscribe_uris(unsubscribe_url: str, mailto: str = "") -> list[str]:
    """The URIs of List-Unsubscribe: the one-click https link, then the mailto when configured.

    The mailto's subject carries the reader's unsubscribe token (the last segment of the
    link), so a message to that address names whom to unsubscribe.
    """
    uris = [unsubscribe_url]
    if mailto:
        token = unsubscribe_url.rstrip("/").rpartition("/")[2]
        uris.append(f"mailto:{mailto}?subject={quote('unsubscribe-' + token, safe='')}")
    for uri in uris:
        if not _URI.match(uri) or any(ch in uri for ch in "<>,"):
            raise ValueError(f"{uri!r} cannot be written in List-Unsubscribe")
    return uris


def uri_list(uris: Sequence[str]) -> str:
    """`<a>, <b>` on one line (RFC 2369)."""
    return ", ".join(f"<{uri}>" for uri in uris)


def folded_uri_list(name: str, uris: Sequence[str], width: int = FOLD_WIDTH) -> str:
    """`<a>, <b>` folded only between URIs (after the comma) when a line would pass `width`.

    Lines are joined with a bare "\\n" followed by a space; the serialiser writes its own line
    ends. A single URI is never cut: a line may exceed `width`, never `LINE_LIMIT`.
    """
    return _fold(name, [f"<{uri}>" for uri in uris], ",", width)


def slug(text: str, fallback: str = "newsletter") -> str:
    """Lowercase ASCII letters, digits and hyphens (accents dropped): `MaddyNews` -> `maddynews`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _ID_PART.sub("-", ascii_text.lower()).strip("-")[:60].strip("-") or fallback


def mail_domain(sender_email: str, base_url: str) -> str:
    """The sender address's domain in ASCII, else the public site's host."""
    domain = sender_email.rpartition("@")[2].strip().lower()
    try:
        domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        domain = ""
    if not re.match(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$", domain):
        domain = (urlsplit(base_url).hostname or "localhost").lower()
    return domain


def list_id(newsletter_name: str, domain: str) -> str:
    """`List-Id` (RFC 2919): `Name <slug.domain>`, the name only when it is plain ASCII."""
    identifier = f"<{slug(newsletter_name)}.{domain}>"
    phrase = display_text(newsletter_name, 100)
    if not phrase or not is_plain_header_value(phrase):
        return identifier
    if not _ATEXT.match(phrase):
        phrase = _quoted(phrase)
    return f"{phrase} {identifier}"


def feedback_id(campaign: str, newsletter_name: str, kind: str, sender_id: str) -> str:
    """Gmail's `Feedback-ID: campaign:newsletter:mail type:sender id`, each part an id."""
    parts = (campaign, newsletter_name, kind, sender_id)
    return ":".join(slug(part, fallback="none") for part in parts)


def text_header(name: str, text: str) -> str:
    """The wire value of an unstructured header (Subject) holding `text`, a `display_text`.

    Plain ASCII stays readable, folded at spaces; anything else becomes RFC 2047 base64 words
    whose decoding gives `text` back exactly. Continuation lines start with "\n " (the
    serialiser writes its own line ends).
    """
    if is_plain_header_value(text):
        return _folded_words(name, text.split(" "))
    return "\n ".join(_encoded_words(text, ENCODED_LINE_LIMIT - len(name) - 2))


def address_header(name: str, display_name: str, addr_spec: str) -> str:
    """The wire value of From/To: `Display Name <addr@domain>`; ValueError for an address that
    cannot be written in a header (non-ASCII, quoted or malformed local part)."""
    if not _ADDR_SPEC.match(addr_spec):
        raise ValueError(f"{addr_spec!r} cannot be written in a {name} header")
    if not display_name:
        return addr_spec
    angle = f"<{addr_spec}>"
    if is_plain_header_value(display_name):
        phrase = [display_name if _ATEXT.match(display_name) else _quoted(display_name)]
    else:
        phrase = _encoded_words(display_name, ENCODED_LINE_LIMIT - len(name) - 2)
    last = phrase[-1] if len(phrase) > 1 else f"{name}: {phrase[0]}"
    if len(last) + 1 + len(angle) <= FOLD_WIDTH:
        return "\n ".join(phrase) + " " + angle
    return "\n ".join([*phrase, angle])


def _folded_words(name: str, words: Sequence[str]) -> str:
    return _fold(name, words, "", FOLD_WIDTH)


def _fold(name: str, items: Sequence[str], separator: str, width: int) -> str:
    """`items` joined by `separator` and a space, folded between items (never inside one) when
    a line of the `name:` header would pass `width`."""
    lines = [items[0] if items else ""]
    used = len(name) + 2 + len(lines[0])
    for item in items[1:]:
        if used + len(separator) + 1 + len(item) > width:
            lines[-1] += separator
            lines.append(" " + item)
            used = len(lines[-1])
        else:
            lines[-1] += f"{separator} {item}"
            used += len(separator) + 1 + len(item)
    return "\n".join(lines)


def _encoded_words(text: str, first_width: int) -> list[str]:
    """`text` as `=?utf-8?b?...?=` words, split between characters, the first one fitting in
    `first_width` columns and the others on continuation lines of 76."""
    words: list[str] = []
    chunk = b""
    width = first_width
    for char in text:
        data = char.encode("utf-8")
        if chunk and len(chunk) + len(data) > _word_bytes(width):
            words.append(_encoded_word(chunk))
            chunk, width = b"", ENCODED_LINE_LIMIT - 1
        chunk += data
    if chunk or not words:
        words.append(_encoded_word(chunk))
    return words


def _word_bytes(width: int) -> int:
    """UTF-8 bytes whose base64 word (`=?utf-8?b?` ... `?=`) fits in `width` columns."""
    return max(4, (width - 12) // 4 * 3)


def _encoded_word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
