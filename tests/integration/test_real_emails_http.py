"""With the project's own email renderer (templates/email/): the confirmation email carries a
working link and the welcome email goes out. Skipped until newsletter.render.renderer exists."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.integration


def test_real_templates_confirm_and_welcome(live_server: Callable[..., LiveServer]) -> None:
    """Sign up, follow the link from the rendered confirmation email, get the welcome email."""
    pytest.importorskip("newsletter.render.renderer")
    live = live_server(render_email=None)  # the app's default: Renderer(config).render_email
    http = live.client()

    signed_up = http.post("/subscribe", json={"email": "real@example.org", "name": "Léa"})
    assert signed_up.status_code == 202
    confirmation = live.mail_to("real@example.org")[0]
    link = live.confirm_link("real@example.org")

    assert link in confirmation.copy.text
    assert link.replace("&", "&amp;") in confirmation.copy.html
    assert "%%" not in confirmation.copy.html + confirmation.copy.text
    assert http.post(link.removeprefix("https://news.example.org")).status_code == 200
    welcome = live.mail_to("real@example.org", count=2)[1]
    assert welcome.copy.subject != confirmation.copy.subject
    assert "%%" not in welcome.copy.html + welcome.copy.text
