"""Signed tokens and per-recipient personalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import TokenError
from newsletter.domain.tokens import CONFIRM, UNSUBSCRIBE, TokenSigner
from newsletter.render.personalise import personalise

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_token_round_trip_and_refusals() -> None:
    """A token verifies for its purpose only, not when altered, expired or signed elsewhere."""
    signer = TokenSigner(b"k1")
    token = signer.sign(CONFIRM, 42, NOW)
    assert signer.verify(token, CONFIRM, NOW, max_age=timedelta(days=7)) == 42
    with pytest.raises(TokenError, match="not meant"):
        signer.verify(token, UNSUBSCRIBE, NOW)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token, CONFIRM, NOW + timedelta(days=8), max_age=timedelta(days=7))
    with pytest.raises(TokenError, match="invalid"):
        TokenSigner(b"k2").verify(token, CONFIRM, NOW)
    with pytest.raises(TokenError, match="invalid"):
        signer.verify(token[:-2] + "xx", CONFIRM, NOW)
    with pytest.raises(TokenError):
        signer.verify("garbage", CONFIRM, NOW)


def test_personalise_fills_and_escapes() -> None:
    """Placeholders are filled; the HTML part gets escaped values, the text part raw ones."""
    spelled = Placeholders.fresh()
    name, url = spelled.name, spelled.unsubscribe_url
    message = RenderedMessage(
        subject=f"Bonjour {name}",
        preheader="",
        html=f'<p>Bonjour {name}</p><a href="{url}">se désinscrire</a>',
        text=f"Bonjour {name}\nSe désinscrire : {url}",
        placeholders=spelled,
    )
    recipient = Recipient(1, 1, "a@example.org", "<Zoé & co>", "https://x.org/u/t?a=1&b=2")
    copy = personalise(message, recipient)
    assert copy.subject == "Bonjour <Zoé & co>"
    assert "<p>Bonjour &lt;Zoé &amp; co&gt;</p>" in copy.html
    assert 'href="https://x.org/u/t?a=1&amp;b=2"' in copy.html
    assert copy.text.endswith("https://x.org/u/t?a=1&b=2")
    assert "%%" not in copy.html + copy.text
