"""MIME copies (message.py) and the file provider: parts, headers, encodings, atomic files."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

from delivery_helpers import SUBJECT, add_subscribers, fake_render, make_issue
from newsletter.bootstrap import Services
from newsletter.deliver.base import Sender
from newsletter.deliver.file import FileProvider
from newsletter.deliver.message import build_message
from newsletter.deliver.send import send_issue
from newsletter.model import IssueState, Recipient, RenderedMessage

SENDER = Sender(email="newsletter@maddynews.fr", name="MaddyNews, l'équipe", base_url="https://x")
RECIPIENT = Recipient(
    delivery_id=42,
    subscriber_id=7,
    email="zoe@example.org",
    name="Zoé Lefèvre-Châtelain",
    unsubscribe_url="https://news.example.org/unsubscribe/abc.DEF",
)
MESSAGE = RenderedMessage(
    subject=SUBJECT,
    preheader="",
    html="<p>Bonjour %%name%%</p>" + "<span>é</span>" * 400 + '<a href="%%unsubscribe_url%%">x</a>',
    text="Bonjour %%name%%\n" + "é" * 3000 + "\n%%unsubscribe_url%%",
    issue_id=3,
)


def _parsed(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_copy_has_both_parts_and_every_header() -> None:
    """Text and HTML alternatives, unsubscribe headers, ids, and French text decoded intact."""
    raw = build_message(MESSAGE, RECIPIENT, SENDER, datetime(2026, 11, 23, tzinfo=UTC)).as_bytes()
    parsed = _parsed(raw)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == "Les licornes françaises à l'honneur, Zoé Lefèvre-Châtelain !"
    assert parsed["To"].addresses[0].display_name == "Zoé Lefèvre-Châtelain"
    assert parsed["From"].addresses[0].display_name == "MaddyNews, l'équipe"
    assert parsed["List-Unsubscribe"] == "<https://news.example.org/unsubscribe/abc.DEF>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
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
    raw = build_message(MESSAGE, RECIPIENT, SENDER).as_bytes()
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_names_cannot_inject_headers() -> None:
    """A name holding a line break stays inside the To header."""
    evil = Recipient(1, 1, "a@example.org", "Eve\r\nBcc: victim@example.org", "https://u/x")
    parsed = _parsed(build_message(MESSAGE, evil, SENDER).as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["To"].addresses[0].display_name == "Eve Bcc: victim@example.org"


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
