"""Checks on the raw bytes of a sent copy: the header set, the MIME shape, the list headers."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID")
INJECTED = ("bcc", "cc", "reply-to")


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header_lines(raw: bytes, name: str) -> list[list[bytes]]:
    """Each occurrence of header `name` in the header block, as its physical lines."""
    block = raw.partition(b"\r\n\r\n")[0]
    found: list[list[bytes]] = []
    current: list[bytes] | None = None
    for line in block.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line)
            continue
        current = None
        if line.lower().startswith(name.lower().encode() + b":"):
            current = [line]
            found.append(current)
    return found


def assert_plain_list_headers(raw: bytes) -> dict[str, str]:
    """Each list header once, plain ASCII (no RFC 2047 word), lines of at most 998 octets,
    folded lines starting with whitespace. Returns their unfolded values."""
    values = {}
    for name in LIST_HEADERS:
        occurrences = header_lines(raw, name)
        assert len(occurrences) == 1, (name, occurrences)
        lines = occurrences[0]
        joined = b"".join(lines)
        assert joined.isascii() and b"=?" not in joined, joined
        assert all(len(line) <= 998 for line in lines)
        assert all(line[:1] in (b" ", b"\t") for line in lines[1:])
        values[name] = joined.decode("ascii").split(":", 1)[1].strip()
    return values


def assert_one_safe_copy(raw: bytes, absent: str = "<h1>EVIL") -> EmailMessage:
    """Exactly one From/To/Subject, nothing injected (Bcc, Cc, Reply-To), a text and an HTML
    part and nothing else, and `absent` (markup an attacker tried to inject) not in the HTML."""
    message = parsed(raw)
    keys = [key.lower() for key in message]
    for name in ("from", "to", "subject", "content-type"):
        assert keys.count(name) == 1, (name, keys)
    assert not set(keys) & set(INJECTED), keys
    assert not any(line.lower().startswith((b"bcc:", b"reply-to:")) for line in raw.splitlines())
    assert message.get_content_type() == "multipart/alternative"
    leaves = [part.get_content_type() for part in message.walk() if not part.is_multipart()]
    assert leaves == ["text/plain", "text/html"]
    html = message.get_body(("html",))
    assert html is not None and absent not in html.get_content()
    return message


PRODUCTION_BASE_URL = "https://newsletter.maddyness-exemple.com/lettres/maddynews-hebdomadaire"
UNSUBSCRIBE_MAILTO = "desabonnement@maddyness-exemple.com"

# Names an attacker signs up with: encoded words whose decoded text holds line breaks, a
# Content-Type and a body, and bidi controls that reorder what the reader sees.
ATTACK_NAMES = {
    "encoded-crlf-q": "=?utf-8?q?=0D=0ABcc:_evil@x.org?=",
    "encoded-crlf-b": "=?utf-8?b?DQpCY2M6IGV2aWxAeC5vcmcNClJlcGx5LVRvOiBldmlsQHgub3Jn?=",
    "encoded-body": "=?utf-8?q?x=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>EVIL</h1>?=",
    "bidi-override": "Zoé \u202egnp.exe\u202c \u2066moc.evil\u2069",
}


def production_like(config: Any) -> Any:
    """The same configuration with a production-length https base_url and a mailto."""
    settings = config.settings
    newsletter = settings.newsletter._replace(base_url=PRODUCTION_BASE_URL)
    email = settings.email._replace(unsubscribe_mailto=UNSUBSCRIBE_MAILTO)
    updated = settings._replace(newsletter=newsletter, email=email)
    return replace(config, **{"settings": updated})


def assert_safe_display_name(name: str) -> None:
    """What a reader's mail program shows: no encoded word left to decode, no bidi control."""
    assert "=?" not in name
    assert not set(name) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
