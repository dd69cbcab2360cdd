"""MIME copies (message.py) and the file provider: parts, headers, encodings, atomic files,
header injection refused, list headers written as plain ASCII."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.deliver.base import Sender
from newsletter.deliver.file import FileProvider
from newsletter.deliver.message import (
    assemble,
    check_headers,
    copy_bytes,
    copy_headers,
)
from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import UnsafeHeaders
from newsletter.domain.model import IssueState
from newsletter.render.personalise import personalise
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import SUBJECT, add_subscribers, fake_render, make_issue
from tests.mail_checks import assert_one_safe_copy, assert_plain_list_headers, header_lines

SENDER = Sender(email="newsletter@maddynews.fr", name="MaddyNews, l'équipe", base_url="https://x")
RECIPIENT = Recipient(
    delivery_id=42,
    subscriber_id=7,
    email="zoe@example.org",
    name="Zoé Lefèvre-Châtelain",
    unsubscribe_url="https://news.example.org/unsubscribe/abc.DEF",
)
SPELLED = Placeholders.fresh()
MESSAGE = RenderedMessage(
    subject=SUBJECT.format(name=SPELLED.name),
    preheader="",
    html=f"<p>Bonjour {SPELLED.name}</p>"
    + "<span>é</span>" * 400
    + f'<a href="{SPELLED.unsubscribe_url}">x</a>',
    text=f"Bonjour {SPELLED.name}\n" + "é" * 3000 + f"\n{SPELLED.unsubscribe_url}",
    issue_id=3,
    categories=("digest",),
    placeholders=SPELLED,
)
ATTACKS = {
    "encoded CRLF": "=?utf-8?q?=0D=0ABcc:_evil@x.org?=",
    "encoded CRLF, base64": "=?utf-8?b?DQpCY2M6IGV2aWxAeC5vcmcNClJlcGx5LVRvOiBldmlsQHgub3Jn?=",
    "encoded body": "=?utf-8?q?x=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>EVIL_BODY</h1>?=",
    "raw CRLF": "Eve\r\nBcc: evil@x.org\r\nReply-To: evil@x.org",
    "bidi override": "Zoé \u202eevil\u202c \u2066x\u2069",
}


def _parsed(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_copy_has_both_parts_and_every_header() -> None:
    """Text and HTML alternatives, list headers, ids, and French text decoded intact."""
    raw = copy_bytes(MESSAGE, RECIPIENT, SENDER, datetime(2026, 11, 23, tzinfo=UTC))
    parsed = _parsed(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == "Les licornes françaises à l'honneur, Zoé Lefèvre-Châtelain !"
    assert parsed["To"].addresses[0].display_name == "Zoé Lefèvre-Châtelain"
    assert parsed["From"].addresses[0].display_name == "MaddyNews, l'équipe"
    assert parsed["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/abc.DEF>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Id"] == "<maddynews-l-equipe.maddynews.fr>"
    assert parsed["Feedback-ID"] == "issue-3:maddynews-l-equipe:digest:maddynews-fr"
    assert parsed["Message-ID"].endswith("@maddynews.fr>")
    assert parsed["Date"] == "Mon, 23 Nov 2026 00:00:00 +0000"
    assert (parsed["X-Newsletter-Issue"], parsed["X-Newsletter-Delivery"]) == ("3", "42")
    assert parsed["MIME-Version"] == "1.0"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    assert (
        text.get_content()
        .replace("\r\n", "\n")
        .startswith("Bonjour Zoé Lefèvre-Châtelain\n" + "é" * 3000)
    )
    assert 'href="https://news.example.org/unsubscribe/abc.DEF"' in html.get_content()
    assert {text["Content-Transfer-Encoding"], html["Content-Transfer-Encoding"]} == {
        "quoted-printable"
    }


def test_copy_is_ascii_with_short_lines() -> None:
    """Every line of the wire format is 7-bit and well under the 998-octet limit."""
    raw = copy_bytes(MESSAGE, RECIPIENT, SENDER)
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"\n" not in raw.replace(b"\r\n", b"")


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_names_cannot_inject_headers(attack: str) -> None:
    """A name holding encoded or raw line breaks, or bidi controls, stays one display name:
    one To, no Bcc or Reply-To, no injected body; the name shown has no encoded word."""
    evil = Recipient(1, 1, "a@example.org", attack, "https://news.example.org/unsubscribe/t")
    raw = copy_bytes(MESSAGE, evil, SENDER)
    parsed = assert_one_safe_copy(raw, absent="<h1>EVIL_BODY")
    (to,) = parsed["To"].addresses
    assert to.addr_spec == "a@example.org"
    assert "=?" not in to.display_name and "\u202e" not in to.display_name
    assert "\u202e" not in parsed["Subject"]


def test_check_headers_refuses_what_was_not_meant() -> None:
    """Bytes whose headers read back differently from the ones meant are refused: an added
    Bcc, a changed To, a blank line that starts the body early, an overlong line."""
    copy = personalise(MESSAGE, RECIPIENT)
    meant = copy_headers(MESSAGE, copy, RECIPIENT, SENDER)
    raw = assemble(meant, copy).as_bytes()
    check_headers(raw, meant, RECIPIENT.email)  # as written: accepted
    to_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"To:"))
    forged = {
        "added: bcc": raw.replace(to_line, to_line + b"\r\nBcc: evil@x.org"),
        "changed: to": raw.replace(b"<zoe@example.org>", b"<evil@x.org>"),
        "missing": raw.replace(to_line, to_line + b"\r\n"),
        "over 998": raw.replace(to_line, to_line + b"\r\nX-Long: " + b"x" * 1000),
    }
    for expected, data in forged.items():
        with pytest.raises(UnsafeHeaders, match=expected):
            check_headers(data, meant, RECIPIENT.email)


def test_unwritable_copy_is_refused_and_counted_failed(tmp_path: Path) -> None:
    """A copy whose List-Unsubscribe cannot be written as meant (a line break, a line over 998
    octets) is failed by the file provider and never written; the other copies go."""
    provider = FileProvider(sender=SENDER, outbox=tmp_path)
    good = Recipient(1, 1, "a@example.org", "A", "https://news.example.org/unsubscribe/t")
    broken = Recipient(2, 2, "b@example.org", "B", "https://n.example.org/u/x\r\nBcc: e@x.org")
    long = Recipient(3, 3, "c@example.org", "C", "https://n.example.org/u/" + "x" * 1000)
    result = provider.send_batch(MESSAGE, [good, broken, long])
    assert set(result.failed) == {2, 3}
    assert "cannot be written in List-Unsubscribe" in result.failed[2]
    assert "over 998 octets" in result.failed[3]
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1 and b"a@example.org" in files[0].read_bytes()


def test_list_headers_are_plain_ascii_on_the_wire(tmp_path: Path) -> None:
    """With a production-length https link and token and a mailto, the .eml carries
    List-Unsubscribe as two URIs folded between them, never RFC 2047 encoded, with
    List-Unsubscribe-Post, List-Id and Feedback-ID."""
    base = "https://newsletter.maddyness-exemple.com/lettres/maddynews"
    token = "eyJwIjoidW5zdWJzY3JpYmUiLCJzIjoxMjM0NTY3LCJ0IjoxNzk1MDAwMDAwfQ." + "Ab9_-" * 17
    sender = replace(SENDER, newsletter="MaddyNews", unsubscribe_mailto="desabo@maddynews.fr")
    reader = replace(RECIPIENT, unsubscribe_url=f"{base}/unsubscribe/{token}")
    provider = FileProvider(sender=sender, outbox=tmp_path)
    assert provider.send_batch(MESSAGE, [reader]).failed == {}
    (path,) = tmp_path.glob("*.eml")
    raw = path.read_bytes()
    values = assert_plain_list_headers(raw)
    assert len(token) >= 140
    assert values["List-Unsubscribe"] == (
        f"<{base}/unsubscribe/{token}>, <mailto:desabo@maddynews.fr?subject=unsubscribe-{token}>"
    )
    assert header_lines(raw, "List-Unsubscribe")[0][1].startswith(b" <mailto:")
    assert values["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert values["List-Id"] == "MaddyNews <maddynews.maddynews.fr>"
    assert values["Feedback-ID"] == "issue-3:maddynews:digest:maddynews-fr"


def test_file_provider_writes_one_eml_per_subscriber(services: Services, tmp_path: Path) -> None:
    """A send through the file provider leaves one complete .eml per active subscriber."""
    outbox = tmp_path / "outbox"
    services._provider = FileProvider(sender=SENDER, outbox=outbox, batch_size=2)
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    counts = send_issue(services, issue_id, render=fake_render)
    assert (counts.state, counts.sent) == (IssueState.SENT, 5)
    files = sorted(outbox.iterdir())
    assert len(files) == 5 and all(f.suffix == ".eml" for f in files)
    recipients = sorted(_parsed(f.read_bytes())["To"].addresses[0].addr_spec for f in files)
    assert recipients == [f"u{i}@example.org" for i in range(5)]
    first = _parsed(files[0].read_bytes())
    assert first["X-Newsletter-Issue"] == str(issue_id)
    assert first.get_body(("html",)) is not None and first.get_body(("plain",)) is not None


def test_file_provider_never_overwrites(tmp_path: Path) -> None:
    """Sending the same copy twice in the same instant keeps both files."""
    provider = FileProvider(sender=SENDER, outbox=tmp_path)
    stem = "issue3-d42-x"
    first = provider._write(stem, b"one")
    second = provider._write(stem, b"two")
    assert first != second
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{stem}-1.eml", f"{stem}.eml"]
