"""Fast copies (deliver/copies.py): byte-for-byte the email package's copy (`copy_bytes`), for
hostile and long names, accents, folded headers, any number of placeholders; the per-copy
header check refuses what the whole parse-back refused."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from newsletter.deliver import copies
from newsletter.deliver.base import Sender
from newsletter.deliver.copies import CopyTemplate, check_value, wire_copies
from newsletter.deliver.message import CopyStamp, Header, copy_bytes
from newsletter.deliver.quoted_lines import PersonalLine, encoded
from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import InvalidAddress, UnsafeHeaders
from newsletter.render import personalise
from newsletter.render.personalise import fill
from tests.mail_checks import ATTACK_NAMES, assert_one_safe_copy
from tests.test_headers import NAMES

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
STAMP = CopyStamp.fresh()
SENDER = Sender(
    email="newsletter@maddynews.fr",
    name="MaddyNews, l'équipe",
    base_url="https://news.example.org",
    newsletter="MaddyNews",
    unsubscribe_mailto="desabo@maddynews.fr",
)
P = Placeholders.fresh()
TOKEN = "eyJwIjoidW5zdWJzY3JpYmUiLCJzIjoxMjM0NTY3fQ." + "Ab9_-" * 30
LONG_URL = f"https://newsletter.maddyness-exemple.com/lettres/maddynews/unsubscribe/{TOKEN}"


def _message(
    subject: str = "Les licornes françaises, {name} !", **fields: object
) -> RenderedMessage:
    html = (
        f"<html><body><p>Bonjour {P.name}\u00a0!</p>\n"
        + "<p style=\"font-family:'Helvetica Neue'\">Une start-up lève 3\u00a0M€ = 100 %</p>\n" * 40
        + f'<p><a href="{P.unsubscribe_url}" style="color:#999">Se désinscrire</a> · '
        + "x" * 300
        + f" {P.name}</p>\n"
        + ".\n \t\n</body></html>"
    )
    text = f"Bonjour {P.name} !\n" + "é" * 300 + f"\n\nSe désinscrire : {P.unsubscribe_url}\n"
    defaults: dict[str, object] = {
        "subject": subject.format(name=P.name),
        "preheader": "",
        "html": html,
        "text": text,
        "issue_id": 42,
        "categories": ("digest",),
        "placeholders": P,
    }
    defaults.update(fields)
    return RenderedMessage(**defaults)  # type: ignore[arg-type]


def _reader(name: str | None, url: str = LONG_URL, delivery: int = 7, email: str = "") -> Recipient:
    return Recipient(delivery, 3, email or f"lecteur{delivery}@example.org", name, url)


def _same(template: CopyTemplate, recipient: Recipient) -> bytes:
    """The fast copy, asserted equal to the email package's (or refused the same way)."""
    message, sender = template.message, template.sender
    try:
        expected = copy_bytes(message, recipient, sender, NOW, template.stamp)
    except (InvalidAddress, UnsafeHeaders) as exc:
        with pytest.raises(type(exc)) as raised:
            template.copy(recipient, NOW)
        assert str(raised.value) == str(exc)
        return b""
    actual = template.copy(recipient, NOW)
    assert actual == expected
    return actual


@pytest.mark.parametrize("name", [*NAMES, *ATTACK_NAMES.values(), None, "Zoé " * 80])
def test_names_give_the_same_bytes(name: str | None) -> None:
    """Every name of the header tests (quotes, commas, encoded-word look-alikes, emoji, RTL,
    200 characters forcing folds, empty) and every attack name: the same bytes, in a personal
    subject, To and both bodies."""
    template = CopyTemplate(_message(), SENDER, STAMP)
    assert _same(template, _reader(name))


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.org/unsubscribe/abc.DEF",
        LONG_URL,
        "https://news.example.org/d%C3%A9sinscription/%C3%A9t%C3%A9?a=1&b=%22x%22",
        "https://news.example.org/unsubscribe/" + "x" * 1000,  # over 998 octets: refused
        "https://news.example.org/désinscription/été",  # raw accents: refused
        "https://n.example.org/u/x\r\nBcc: e@x.org",  # a line break: refused
    ],
)
def test_urls_give_the_same_bytes_or_the_same_refusal(url: str) -> None:
    """Short, long (List-Unsubscribe folded between URIs), percent-encoded accents, and the
    URLs the header writer refuses: the same bytes, or the same error."""
    template = CopyTemplate(_message(), SENDER, STAMP)
    _same(template, _reader("Zoé", url))


@pytest.mark.parametrize(
    "message",
    [
        _message(subject="MaddyNews n°42\u00a0: l’IA industrielle lève des fonds"),
        _message(subject="A plain ASCII subject " * 12),
        _message(subject="{name}, " + "é" * 120),
        _message(issue_id=None, categories=()),
        _message(text="no trailing line end, a trailing space ", html=f"{P.unsubscribe_url} "),
        _message(text=f"{P.name}", html=f"\r\n{P.name}\r\nwindows\r\nlines\r\n"),
    ],
    ids=["shared-subject", "long-ascii", "long-personal", "no-issue", "trailing", "crlf"],
)
def test_messages_give_the_same_bytes(message: RenderedMessage) -> None:
    """Subjects shared or personal, ASCII or not, long enough to fold; no issue id; bodies
    without a final line end, ending in a space, with CRLF line ends."""
    template = CopyTemplate(message, SENDER, STAMP)
    for recipient in (_reader("Zoé Lefèvre-Châtelain"), _reader("", delivery=0)):
        assert _same(template, recipient)


def test_random_bodies_give_the_same_bytes() -> None:
    """Seeded random bodies: placeholders anywhere (line starts and ends, around the 76th
    column), trailing spaces and tabs, lone dots, `=`, accents, emoji, empty lines."""
    alphabet = ["a", "é", " ", "\t", "=", ".", "\n", "\n", "€", "👩", "x" * 70, "<", "&", "%"]
    rng = random.Random(1818)
    for _ in range(60):
        parts = [
            rng.choice([*alphabet, P.name, P.unsubscribe_url]) for _ in range(rng.randint(0, 60))
        ]
        body = "".join(parts)
        template = CopyTemplate(_message(text=body, html=body[::-1]), SENDER, STAMP)
        for name in ("Zoé", "A " * 50 + "=", '<b> & "c"'):
            _same(template, _reader(name))


def test_any_number_of_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Placeholders beyond the two of today (per-reader click links, sections): every value
    of `values_for` is filled in, escaped in the HTML, byte-for-byte as the email package."""
    links = {
        f"%%click_{n}_{P.nonce}%%": f"https://x.org/c/{n}?é=«{n}»&t=" + "z" * n * 9
        for n in range(8)
    }
    original = personalise.values_for

    def values_for(message: RenderedMessage, recipient: Recipient) -> dict[str, str]:
        return {**original(message, recipient), **links}

    monkeypatch.setattr(personalise, "values_for", values_for)
    monkeypatch.setattr(copies, "values_for", values_for)
    body = "\n".join(f'<a href="{key}">lien {key}</a> {P.name}' for key in links)
    template = CopyTemplate(_message(text=body, html=body), SENDER, STAMP)
    data = _same(template, _reader("Zoé"))
    assert b"https://x.org/c/3?=C3=A9=3D=C2=ABx" not in data  # each value filled in, not left
    assert b"%%click_" not in data and b"x.org/c/7" in data.replace(b"=\r\n", b"")


def test_one_template_serves_many_copies() -> None:
    """One template, many readers and two batches (two dates): each copy equal to its email
    package copy, the body lines without placeholder encoded once and shared."""
    template = CopyTemplate(_message(), SENDER, STAMP)
    failed: dict[int, str] = {}
    readers = [_reader(f"Lectrice {n} é", delivery=n + 1) for n in range(20)]
    for now in (NOW, NOW.replace(hour=9)):
        made = list(wire_copies(template, readers, now, failed))
        for _, reader, data in made:
            assert data == copy_bytes(template.message, reader, SENDER, now, template.stamp)
    assert failed == {}
    assert len({data for _, _, data in made}) == 20


def test_a_sender_that_cannot_be_written_fails_every_copy() -> None:
    """A From address that cannot be written: the template keeps the error, each copy fails
    with it (as `copy_bytes` does), nothing is sent."""
    sender = replace(SENDER, email="équipe@maddynews.fr")
    template = CopyTemplate(_message(), sender, STAMP)
    failed: dict[int, str] = {}
    assert list(wire_copies(template, [_reader("A"), _reader("B", delivery=8)], NOW, failed)) == []
    assert set(failed) == {7, 8} and "From" in failed[7]


@pytest.mark.parametrize("attack", ATTACK_NAMES.values(), ids=ATTACK_NAMES.keys())
def test_attack_names_stay_one_safe_copy(attack: str) -> None:
    """The attack names through the fast path: one To, no Bcc/Reply-To, no injected body."""
    data = CopyTemplate(_message(), SENDER).copy(_reader(attack), NOW)
    message = assert_one_safe_copy(data, absent="<h1>EVIL")
    assert message["To"].addresses[0].addr_spec == "lecteur7@example.org"


FORGED: dict[str, Callable[[Header], Header]] = {
    "a new header": lambda h: replace(h, wire=h.wire + "\nBcc: evil@x.org"),
    "a blank line": lambda h: replace(h, wire=h.wire + "\n"),
    "a blank continuation": lambda h: replace(h, wire=h.wire + "\n  "),
    "a carriage return": lambda h: replace(h, wire=h.wire + "\rBcc: evil@x.org"),
    "raw UTF-8": lambda h: replace(h, wire=h.wire + " é"),
    "another address": lambda h: replace(h, wire=h.wire.replace("lecteur7@", "evil@")),
    "a second address": lambda h: replace(h, wire=h.wire + ", evil@x.org"),
    "an encoded word": lambda h: replace(
        h, wire="=?utf-8?q?=0D=0ABcc:_e@x.org?= <lecteur7@example.org>"
    ),
    "a line over 998": lambda h: replace(h, wire=h.wire + " " + "x" * 1000),
}


@pytest.mark.parametrize("forge", FORGED.values(), ids=FORGED.keys())
def test_check_value_refuses_a_forged_header(forge: Callable[[Header], Header]) -> None:
    """Each way a per-copy value could break out of its header or change its meaning is
    refused: the same defence as the whole parse-back."""
    from newsletter.deliver.message import personal_headers

    to = personal_headers(_message(), _reader("Zoé Lefèvre"), SENDER, STAMP)["To"]
    check_value(to, "the copy")  # as written: accepted
    with pytest.raises(UnsafeHeaders, match=r"over 998|changed: to"):
        check_value(forge(to), "the copy")


def test_a_value_is_never_filled_in_itself() -> None:
    """Placeholders are filled in one pass: a link holding the spelling of the name
    placeholder (were the nonce ever known) keeps it as text, in both paths alike."""
    url = f"https://news.example.org/u/{P.name}"
    template = CopyTemplate(_message(), SENDER, STAMP)
    data = _same(template, _reader("Zoé", url=url))
    text = assert_one_safe_copy(data).get_body(("plain",))
    assert text is not None
    assert "Bonjour Zoé !" in text.get_content()
    assert f"Se désinscrire : {url}" in text.get_content()


def test_personal_lines_encode_as_the_whole_line() -> None:
    """A line with placeholders, encoded from where it differs (the prefix once, the tail once
    per column), equals the line filled in and encoded whole: seeded random lines and values
    (empty, spaces, dots, `=`, line breaks, long, accented), each line reused for many values
    so the tails met at every column are checked."""
    keys = [f"%%k{n}_{P.nonce}%%" for n in range(3)]
    pieces = ["a", "é", " ", "\t", "=", ".", "x" * 20, "x" * 73, '<a href="', '">', "€", "\r"]
    values = ["", " ", ".", "=", "\r\n", "\n.", "z" * 90, "é" * 30, "a b ", "https://x.org/c/1"]
    rng = random.Random(2026)
    for _ in range(300):
        parts = [rng.choice([*pieces, *keys]) for _ in range(rng.randint(1, 30))]
        parts.insert(rng.randint(0, len(parts)), rng.choice(keys))
        line = "".join(parts) + rng.choice(["\n", "", " \n", ".\n"])
        personal = PersonalLine(line)
        for _ in range(10):
            filled = {key: rng.choice(values) + rng.choice(values) for key in keys}
            assert personal.encoded(filled) == encoded(fill(line, filled)), (line, filled)
