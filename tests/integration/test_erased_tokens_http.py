"""Links outlive their subscriber: after `subscribers remove`, the erased reader's confirm and
unsubscribe links must not act on whoever signs up next (SQLite would hand the next sign-up the
erased row's id if ids could be reused). Performed over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.domain.readers import SubscriberStatus

from .conftest import LiveServer

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]
BASE = "https://news.example.org"
UNSUBSCRIBE_LINK = re.compile(r"unsubscribe: (https://\S+/unsubscribe/\S+)")


def _status(live: LiveServer, email: str) -> SubscriberStatus | None:
    found = live.services.store.subscribers.by_email(email)
    return found.status if found else None


def _follow_confirm(http: httpx.Client, link: str) -> httpx.Response:
    """Confirm as the reader's browser does: the button's POST (GET only shows the button)."""
    return http.post(link.removeprefix(BASE))


def test_an_erased_readers_links_do_not_act_on_the_next_sign_up(live_server: Start) -> None:
    """Sign up A and keep A's links; erase A with the CLI; sign up B. A's confirmation link
    does not confirm B, A's unsubscribe page is not offered and A's one-click unsubscribe does not
    unsubscribe B: all are 400."""
    live = live_server()
    http = live.client()
    assert http.post("/subscribe", json={"email": "ann@example.org"}).status_code == 202
    confirm_a = live.confirm_link("ann@example.org")
    found = UNSUBSCRIBE_LINK.search(live.mail_to("ann@example.org")[0].copy.text)
    assert found is not None
    unsubscribe_a = found.group(1)
    ann = live.services.store.subscribers.by_email("ann@example.org")
    assert ann is not None

    removed = CliRunner().invoke(
        cli,
        ["--config", str(live.services.config.path), "subscribers", "remove", "ann@example.org"],
    )
    assert removed.exit_code == 0 and "erased" in removed.output, removed.output
    assert http.post("/subscribe", json={"email": "bob@example.org"}).status_code == 202
    confirm_b = live.confirm_link("bob@example.org")

    stale_confirm = _follow_confirm(http, confirm_a)

    assert stale_confirm.status_code == 400
    assert _status(live, "bob@example.org") is SubscriberStatus.PENDING
    assert _follow_confirm(http, confirm_b).status_code == 200
    assert _status(live, "bob@example.org") is SubscriberStatus.ACTIVE

    assert http.get(unsubscribe_a.removeprefix(BASE)).status_code == 400
    stale_unsubscribe = http.post(
        unsubscribe_a.removeprefix(BASE), data={"List-Unsubscribe": "One-Click"}
    )

    assert stale_unsubscribe.status_code == 400
    assert _status(live, "bob@example.org") is SubscriberStatus.ACTIVE
    assert _status(live, "ann@example.org") is None
    bob = live.services.store.subscribers.by_email("bob@example.org")
    assert bob is not None and bob.id != ann.id  # ids are never given again
