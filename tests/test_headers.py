"""Header values (headers.py): outside text made safe, list headers, our own RFC 2047 writer."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from newsletter.render.headers import (
    NAME_LIMIT,
    address_header,
    display_text,
    feedback_id,
    folded_uri_list,
    list_id,
    mail_domain,
    text_header,
    unsubscribe_uris,
)

ENCODED_CRLF = "=?utf-8?q?=0D=0ABcc:_evil@x.org?="
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
NAMES = [
    "Zoé Lefèvre-Châtelain",
    "Jean Dupont",
    'O"Brien, Jr.',
    "back\\slash",
    "Zoé " * 60,
    "Ünïcödé " * 30,
    "日本語の名前と とても長い 名前 " * 5,
    "👩\u200d👩\u200d👧 famille",
    "شیرین\u200cعلی",
    "a <b@c.d>, e@f.g; (x)",
    "=?",
    "?=",
    "x ?= y =? z",
    ENCODED_CRLF,
    "=?utf-8?b?DQpCY2M6IGV2aWxAeC5vcmc=?=",
    "«\u00a0Zoé\u00a0» ",
    "",
]


def _parsed(header: str, wire: str) -> EmailMessage:
    raw = f"{header}: {wire.replace(chr(10), chr(13) + chr(10))}\r\n\r\n".encode("ascii")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize(
    "hostile",
    [
        ENCODED_CRLF,
        "=?UTF-8?B?DQpCY2M6IGV2aWxAeC5vcmc=?=",
        "Eve\r\nBcc: victim@example.org",
        "Eve\u2028Bcc: x\u0085y\x0bz\x00w",
        f"Zoé {BIDI}evil",
        "\ufeffzero\u200bwidth\u2060joiner",
        "=\u202e?utf-8?q?=0A?=",  # a removed character must not join "=" and "?"
    ],
)
def test_display_text_is_one_safe_line(hostile: str) -> None:
    """No line break, control, bidi control or encoded-word syntax survives; idempotent."""
    shown = display_text(hostile)
    assert shown == " ".join(shown.split())
    assert all(ch.isprintable() for ch in shown), repr(shown)
    assert not set(BIDI + "\ufeff\u200b\u2060") & set(shown)
    assert "=?" not in shown and "?=" not in shown
    assert display_text(shown) == shown


def test_display_text_keeps_names_and_caps_length() -> None:
    """Ordinary names are unchanged (joiners kept); long text is cut with an ellipsis."""
    for name in ("Zoé Lefèvre-Châtelain", "شیرین\u200cعلی", "👩\u200d👩\u200d👧", "Jean; Paul"):
        assert display_text(name) == name
    cut = display_text("a" * 500, NAME_LIMIT)
    assert len(cut) == NAME_LIMIT and cut.endswith("…")


@pytest.mark.parametrize("name", NAMES)
def test_address_header_reads_back_exactly(name: str) -> None:
    """Our writer's To: value parses back to the same name and address, on short lines."""
    shown = display_text(name, NAME_LIMIT)
    wire = address_header("To", shown, "zoe@example.org")
    parsed = _parsed("To", wire)
    (address,) = parsed["To"].addresses
    assert address.addr_spec == "zoe@example.org"
    # Python's parser adds a space between adjacent encoded words (RFC 2047 says drop it).
    assert "".join(address.display_name.split()) == "".join(shown.split())
    assert len(parsed.keys()) == 1
    assert all(len(line) <= 78 for line in f"To: {wire}".split("\n"))


@pytest.mark.parametrize("text", NAMES)
def test_text_header_reads_back_exactly(text: str) -> None:
    """A Subject written by text_header decodes to exactly the text, whitespace included."""
    subject = display_text(f"Les licornes, {text} ! La start-up lève 10 M€ « record »")
    wire = text_header("Subject", subject)
    parsed = _parsed("Subject", wire)
    assert parsed["Subject"] == subject
    assert len(parsed.keys()) == 1
    lines = f"Subject: {wire}".split("\n")
    assert all(line.startswith(" ") for line in lines[1:])
    if "=?" in wire:  # RFC 2047: lines holding encoded words stay within 76 characters
        assert all(len(line) <= 76 for line in lines)


def test_address_header_refuses_what_it_cannot_write() -> None:
    """Non-ASCII, quoted or malformed addresses are a ValueError, never a mangled header."""
    for bad in ("zoé@example.org", '"a b"@example.org', "a@example.org\r\nBcc: x@y.z", "a@b"):
        with pytest.raises(ValueError):
            address_header("To", "Zoé", bad)


def test_list_unsubscribe_is_folded_between_uris_only() -> None:
    """Long URIs stay whole; the fold comes after the comma, the next line starts with a space."""
    token = "T" * 150
    uris = unsubscribe_uris(
        f"https://newsletter.maddyness-exemple.com/unsubscribe/{token}", "unsub@example.org"
    )
    assert uris[1] == f"mailto:unsub@example.org?subject=unsubscribe-{token}"
    folded = folded_uri_list("List-Unsubscribe", uris)
    assert folded == f"<{uris[0]}>,\n <{uris[1]}>"
    short = folded_uri_list("List-Unsubscribe", ["https://a.fr/u/1", "mailto:u@a.fr"])
    assert short == "<https://a.fr/u/1>, <mailto:u@a.fr>"


def test_unsubscribe_uris_refuse_what_cannot_be_written() -> None:
    """A URL holding a line break, a space, '>' or ',' is refused, not written."""
    for url in ("https://a.fr/u/x\r\nBcc: e@x.org", "https://a.fr/u/a b", "https://a.fr/u/>,<x"):
        with pytest.raises(ValueError):
            unsubscribe_uris(url)


def test_list_id_and_feedback_id() -> None:
    """List-Id names the list by slug and domain; Feedback-ID has Gmail's four parts."""
    assert list_id("MaddyNews", "maddyness.com") == "MaddyNews <maddynews.maddyness.com>"
    assert list_id("Lettre, l'hebdo", "x.org") == '"Lettre, l\'hebdo" <lettre-l-hebdo.x.org>'
    assert list_id("Lettre Épique", "x.org") == "<lettre-epique.x.org>"  # no encoded phrase
    assert list_id("日本", "x.org") == "<newsletter.x.org>"
    assert feedback_id("issue-7", "MaddyNews", "digest", "maddyness.com") == (
        "issue-7:maddynews:digest:maddyness-com"
    )
    assert mail_domain("news@Exemple.FR", "https://x.org") == "exemple.fr"
    assert mail_domain("news@bücher.example", "https://x.org") == "xn--bcher-kva.example"
