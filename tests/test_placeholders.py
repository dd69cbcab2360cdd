"""Placeholders are spelled with a nonce drawn for each render: outside text cannot make one."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from newsletter.audience import links as subscriber_links
from newsletter.audience import subscribers
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage
from newsletter.domain.model import IssueState
from newsletter.render.personalise import personalise
from newsletter.render.renderer import Renderer
from newsletter.runtime.audience import audience_of, outbox_mailer
from newsletter.runtime.wiring import Services
from newsletter.store import Store, migrate
from newsletter.store.tables import issues
from tests.delivery_helpers import fake_render, make_issue
from tests.render_support import render_config
from tests.sample_issue import sample_issue

READER = Recipient(1, 1, "zoe@example.org", "Zoé", "https://news.example.org/unsubscribe/TOKEN")
CONSENT = subscribers.Consent(ip="192.0.2.1", source="test", text="fr:abc")
GUESSES = ("%%unsubscribe_url%%", "%%name%%", "%%name_html%%", "%%unsubscribe_url_%%")


def test_every_render_draws_new_placeholders(tmp_path: Path) -> None:
    """Two renders of the same issue leave different placeholders, none of the old fixed ones."""
    renderer = Renderer(render_config(tmp_path))
    first = renderer.render_issue(sample_issue(2))
    second = renderer.render_issue(sample_issue(2))
    assert first.placeholders != second.placeholders
    assert first.placeholders.unsubscribe_url in first.html
    assert first.placeholders.unsubscribe_url not in second.html
    assert "%%unsubscribe_url%%" not in first.html + first.text


def test_text_from_outside_is_never_filled_in() -> None:
    """Feed or editor text spelling a placeholder (any guess) stays as written."""
    spelled = Placeholders.fresh()
    outside = " ".join(GUESSES)
    message = RenderedMessage(
        subject=f"{outside} {spelled.name}",
        preheader="",
        html=f'<a href="https://evil.example/?u={outside}">x</a>'
        f'<a href="{spelled.unsubscribe_url}">x</a>',
        text=f"{outside}\n{spelled.unsubscribe_url}",
        placeholders=spelled,
    )
    copy = personalise(message, READER)
    assert copy.subject == f"{outside} Zoé"
    assert f"https://evil.example/?u={outside}" in copy.html
    assert copy.html.count("TOKEN") == 1 and copy.text.count("TOKEN") == 1


def test_a_frozen_render_keeps_its_placeholders(services: Services) -> None:
    """The render frozen when sending starts comes back with the same nonce, so a resumed send
    still fills its placeholders in."""
    issue_id = make_issue(services)
    rendered = replace(fake_render(services.store.issues.get(issue_id)), issue_id=issue_id)  # type: ignore[arg-type]
    services.store.issues.freeze_render(issue_id, rendered)
    frozen = services.store.issues.frozen_render(issue_id)
    assert frozen is not None and frozen.placeholders == rendered.placeholders
    copy = personalise(frozen, READER)
    assert "TOKEN" in copy.text and "%%" not in copy.html + copy.text


def test_migration_respells_a_render_frozen_before_it(database_url: str) -> None:
    """A render frozen under the fixed placeholders gets a nonce of its own on upgrade."""
    store = Store.from_url(database_url)
    migrate.upgrade(store.engine, "0001")
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(issues).values(
                id=1,
                number=1,
                state=IssueState.SENDING.value,
                subject="N°1",
                created_at=sa.func.now(),
                rendered_subject="Bonjour %%name%%",
                rendered_preheader="",
                rendered_html='<a href="%%unsubscribe_url%%">x</a> %%name%%',
                rendered_text="%%unsubscribe_url%%",
            )
        )
    store.migrate()
    frozen = store.issues.frozen_render(1)
    store.close()
    assert frozen is not None
    spelled = frozen.placeholders
    assert len(spelled.nonce) == 24
    assert frozen.subject == f"Bonjour {spelled.name}"
    assert frozen.html == f'<a href="{spelled.unsubscribe_url}">x</a> {spelled.name}'
    assert personalise(frozen, READER).text == READER.unsubscribe_url


def test_transactional_emails_fill_only_their_own_placeholders(services: Services) -> None:
    """Confirmation and welcome, rendered once with the real templates: a reader whose name
    spells placeholders sees it as text, and gets their own unsubscribe link."""
    subscribers.request_subscription(audience_of(services), "eve@example.org", GUESSES[0], CONSENT)
    mailer = outbox_mailer(services)
    mailer.flush()
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    (confirmation,) = provider.to("eve@example.org")
    link = re.search(r"https://news\.example\.org/confirm/(\S+)", confirmation.copy.text)
    assert link is not None
    subscriber_links.confirm(audience_of(services), link.group(1))
    mailer.flush()
    welcome = provider.to("eve@example.org")[1]
    url = welcome.recipient.unsubscribe_url
    assert f"Merci {GUESSES[0]}" in welcome.copy.html
    assert welcome.copy.html.count(url) == 1 and welcome.copy.text.count(url) == 1
