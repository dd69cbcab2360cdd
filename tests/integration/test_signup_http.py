"""Sign-up, confirmation, welcome and unsubscribe through the real HTTP stack (uvicorn + httpx)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from newsletter.audience import subscribers
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import curation
from newsletter.store.reader_tables import subscribers as subscribers_table

from .conftest import LiveServer

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]


def _status(live: LiveServer, email: str) -> SubscriberStatus:
    live.stored()
    found = live.services.store.subscribers.by_email(email)
    assert found is not None
    return found.status


def test_double_opt_in_from_sign_up_to_welcome(live_server: Start) -> None:
    """A JSON sign-up answers 202, mails a confirmation link; opening it shows a button, and
    the button's POST activates the subscriber, shows a French page and sends the welcome
    email; consent is recorded."""
    live = live_server()
    http = live.client()

    answer = http.post("/subscribe", json={"email": "Ada@Example.ORG", "name": "Ada"})

    assert answer.status_code == 202
    assert answer.json()["status"] == "accepted"
    assert _status(live, "ada@example.org") is SubscriberStatus.PENDING
    confirmation = live.mail_to("ada@example.org")[0]
    assert confirmation.copy.subject == "[confirm] MaddyNews"
    assert "Ada" in confirmation.copy.text  # %%name%% filled in
    assert confirmation.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = live.confirm_link("ada@example.org")
    assert link.startswith("https://news.example.org/confirm/")

    path = link.replace("https://news.example.org", "")
    shown = http.get(path)
    assert shown.status_code == 200
    assert "<button" in shown.text and 'method="post"' in shown.text
    assert f'action="{path}"' in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert _status(live, "ada@example.org") is SubscriberStatus.PENDING  # a fetch is not a click

    page = http.post(path)

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Inscription confirmée" in page.text
    assert _status(live, "ada@example.org") is SubscriberStatus.ACTIVE
    welcome = live.mail_to("ada@example.org", count=2)[1]
    assert welcome.copy.subject == "[welcome] MaddyNews"
    subscriber = live.services.store.subscribers.by_email("ada@example.org")
    assert subscriber is not None
    consent = live.services.store.subscribers.consent(subscriber.id)
    assert consent is not None
    assert consent["consent_ip"] == "127.0.0.1"
    assert consent["consent_source"] == "web-json"
    assert str(consent["consent_text"]).startswith("fr:")
    assert consent["confirmed_at"] == live.clock.now

    again = http.post(path)
    assert again.status_code == 200
    assert "déjà confirmée" in again.text
    live.settle()
    assert len(live.provider.to("ada@example.org")) == 2  # no second welcome


def test_link_scanners_do_not_confirm(live_server: Start) -> None:
    """A mail service's scanner opening the confirmation link (GET, HEAD, again and again)
    confirms nothing and triggers no welcome email; only the page's button does."""
    live = live_server()
    http = live.client()
    http.post("/subscribe", json={"email": "scan@example.org"})
    path = live.confirm_link("scan@example.org").removeprefix("https://news.example.org")

    opened = [http.get(path).status_code for _ in range(3)]
    probed = http.head(path).status_code

    assert opened == [200, 200, 200] and probed < 500
    assert _status(live, "scan@example.org") is SubscriberStatus.PENDING
    live.settle()
    assert len(live.provider.to("scan@example.org")) == 1  # the confirmation only
    assert http.post(path).status_code == 200
    assert _status(live, "scan@example.org") is SubscriberStatus.ACTIVE


def test_browser_form_sign_up_gets_a_page(live_server: Start) -> None:
    """A browser posting the form gets an HTML page in French, with 202."""
    live = live_server()
    http = live.client(headers={"Accept": "text/html,application/xhtml+xml"})

    form = http.get("/subscribe")
    answer = http.post("/subscribe", data={"email": "bob@example.org", "name": "", "website": ""})

    assert form.status_code == 200
    assert '<label for="email">Adresse e-mail</label>' in form.text
    assert 'name="website"' in form.text
    assert answer.status_code == 202
    assert answer.headers["content-type"].startswith("text/html")
    assert "Vérifiez votre boîte de réception" in answer.text
    live.mail_to("bob@example.org")
    consent = live.services.store.subscribers.consent(
        live.services.store.subscribers.by_email("bob@example.org").id  # type: ignore[union-attr]
    )
    assert consent is not None and consent["consent_source"] == "web-form"


def test_no_enumeration_and_resend_throttle(live_server: Start) -> None:
    """New, pending and active addresses get the same 202 body; a pending address asking
    again gets a fresh confirmation only once `resend_minutes` have passed."""
    live = live_server()
    http = live.client()
    live.services.store.subscribers.add(
        "known@example.org", None, SubscriberStatus.ACTIVE, live.clock.now
    )

    new = http.post("/subscribe", json={"email": "new@example.org"})
    pending = http.post("/subscribe", json={"email": "new@example.org"})
    active = http.post("/subscribe", json={"email": "known@example.org"})

    assert new.status_code == pending.status_code == active.status_code == 202
    assert new.content == pending.content == active.content
    live.settle()
    assert len(live.provider.to("new@example.org")) == 1
    assert live.provider.to("known@example.org") == []

    live.clock.advance(minutes=6)
    http.post("/subscribe", json={"email": "new@example.org"})
    assert len(live.mail_to("new@example.org", count=2)) == 2


def test_the_answer_leaves_before_any_sign_up_work(
    live_server: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New, pending and active addresses are answered before the sign-up touches the
    database: with the work held back, every 202 still arrives, identical, and exactly one
    piece of deferred work per request is waiting; released, it stores each as usual. Past
    the bound of waiting work, a sign-up waits for room; finding none in time, it gets 503
    and is not stored."""
    live = live_server()
    live.services.store.subscribers.add(
        "active@example.org", None, SubscriberStatus.ACTIVE, live.clock.now
    )
    live.services.store.subscribers.add(
        "pending@example.org", None, SubscriberStatus.PENDING, live.clock.now
    )
    release = threading.Event()
    started: list[str] = []
    real_request = subscribers.request_subscription

    def held_back(services: Any, email: str, *args: Any) -> Any:
        started.append(email)
        assert release.wait(10), "the test never released the sign-up work"
        return real_request(services, email, *args)

    monkeypatch.setattr(subscribers, "request_subscription", held_back)
    signups = live.app.state.public.signups
    signups.limit, signups.wait_seconds = 3, 0.5
    emails = ["new@example.org", "pending@example.org", "active@example.org"]
    # One connection: a next request must not wait for the previous one's work either. A
    # handler (or the connection) waiting for the work would time out here.
    try:
        with httpx.Client(base_url=live.url, timeout=3) as http:
            answers = [http.post("/subscribe", json={"email": email}) for email in emails]
            busy = http.post("/subscribe", json={"email": "late@example.org"})
        waiting = signups.waiting
    finally:
        release.set()

    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert answers[0].content == answers[1].content == answers[2].content
    assert waiting == 3
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    assert "rien n’a été fait" in busy.json()["detail"]
    live.settle()
    assert sorted(started) == sorted(emails)
    assert live.services.store.subscribers.by_email("late@example.org") is None
    assert _status(live, "new@example.org") is SubscriberStatus.PENDING
    assert len(live.mail_to("new@example.org")) == 1


def test_one_click_unsubscribe_exactly_as_a_mailbox_provider_sends_it(live_server: Start) -> None:
    """RFC 8058: POST, application/x-www-form-urlencoded, body List-Unsubscribe=One-Click,
    no cookie: 200 with a page, never a redirect, idempotent. GET only shows a button."""
    live = live_server()
    subscriber, _ = live.services.store.subscribers.add(
        "carol@example.org", None, SubscriberStatus.ACTIVE, live.clock.now
    )
    path = curation.unsubscribe_urls(live.services)(subscriber.id).removeprefix(
        "https://news.example.org"
    )
    http = live.client()

    shown = http.get(path)
    assert shown.status_code == 200
    assert "<button" in shown.text and 'method="post"' in shown.text
    assert _status(live, "carol@example.org") is SubscriberStatus.ACTIVE

    first = http.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    second = http.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert first.status_code == second.status_code == 200
    assert "set-cookie" not in first.headers
    assert "Vous êtes désinscrit" in first.text
    assert _status(live, "carol@example.org") is SubscriberStatus.UNSUBSCRIBED
    multipart = http.post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert multipart.status_code == 200


def test_unsubscribe_and_confirm_refuse_bad_links(live_server: Start) -> None:
    """Forged, expired or wrong-purpose tokens get a 400 page and change nothing."""
    live = live_server()
    subscriber, _ = live.services.store.subscribers.add(
        "dan@example.org", None, SubscriberStatus.PENDING, live.clock.now
    )
    signer = live.services.signer
    confirm_token = signer.sign("confirm", subscriber.id, live.clock.now)
    unsubscribe_token = signer.sign("unsubscribe", subscriber.id, live.clock.now)
    http = live.client()

    forged = http.post(f"/unsubscribe/{unsubscribe_token[:-2]}xx")
    forged_confirm = http.post(f"/confirm/{confirm_token[:-2]}xx")
    wrong_purpose = http.get(f"/confirm/{unsubscribe_token}")
    wrong_purpose_post = http.post(f"/confirm/{unsubscribe_token}")
    live.clock.advance(days=8)
    expired = http.get(f"/confirm/{confirm_token}")
    expired_post = http.post(f"/confirm/{confirm_token}")
    preview_link = http.post("/unsubscribe/test")

    assert forged.status_code == forged_confirm.status_code == 400
    assert wrong_purpose.status_code == wrong_purpose_post.status_code == 400
    assert expired.status_code == expired_post.status_code == preview_link.status_code == 400
    assert "expiré" in expired.text and "expiré" in expired_post.text
    assert "invalide" in forged.text and "invalide" in forged_confirm.text
    assert _status(live, "dan@example.org") is SubscriberStatus.PENDING


def test_leavers_need_a_fresh_confirmation(live_server: Start) -> None:
    """An unsubscribed or complained address signing up again stays off the list until it
    follows a new link; an old confirmation link does not bring it back."""
    live = live_server()
    http = live.client()
    http.post("/subscribe", json={"email": "eve@example.org"})
    old_link = live.confirm_link("eve@example.org").removeprefix("https://news.example.org")
    subscriber = live.services.store.subscribers.by_email("eve@example.org")
    assert subscriber is not None
    assert http.post(old_link).status_code == 200
    live.mail_to("eve@example.org", count=2)  # the welcome, before leaving below drops it
    live.clock.advance(minutes=1)
    live.services.store.subscribers.unsubscribe(subscriber.id, live.clock.now)
    live.clock.advance(minutes=10)

    assert http.post(old_link).status_code == 400
    assert http.post("/subscribe", json={"email": "eve@example.org"}).status_code == 202
    assert _status(live, "eve@example.org") is SubscriberStatus.UNSUBSCRIBED
    new_link = live.confirm_link("eve@example.org", count=3).removeprefix(
        "https://news.example.org"
    )
    assert http.post(new_link).status_code == 200
    assert _status(live, "eve@example.org") is SubscriberStatus.ACTIVE
    live.mail_to("eve@example.org", count=4)  # the welcome, before complaining below drops it

    live.clock.advance(minutes=1)
    live.services.store.subscribers.leave(
        subscriber.id, SubscriberStatus.COMPLAINED, live.clock.now
    )
    live.clock.advance(minutes=10)
    assert http.post("/subscribe", json={"email": "eve@example.org"}).status_code == 202
    assert _status(live, "eve@example.org") is SubscriberStatus.COMPLAINED
    assert http.post(new_link).status_code == 400
    newest = live.confirm_link("eve@example.org", count=5).removeprefix("https://news.example.org")
    assert http.post(newest).status_code == 200
    assert _status(live, "eve@example.org") is SubscriberStatus.ACTIVE


def test_erased_address_can_opt_in_again(live_server: Start) -> None:
    """An erased address (only its hash kept) that signs up again stays suppressed until its
    owner confirms; confirming lifts the suppression."""
    live = live_server()
    http = live.client()
    store = live.services.store.subscribers
    store.add("fay@example.org", None, SubscriberStatus.ACTIVE, live.clock.now)
    store.erase("fay@example.org", live.clock.now)

    assert http.post("/subscribe", json={"email": "fay@example.org"}).status_code == 202
    assert store.is_suppressed("fay@example.org")
    link = live.confirm_link("fay@example.org").removeprefix("https://news.example.org")
    assert http.post(link).status_code == 200
    assert not store.is_suppressed("fay@example.org")
    assert _status(live, "fay@example.org") is SubscriberStatus.ACTIVE


def test_pages_are_embeddable_only_where_meant(live_server: Start) -> None:
    """The form may be framed by any site; token pages may not, are not cached and send no
    referrer; no page allows any script."""
    live = live_server()
    http = live.client()

    form = http.get("/subscribe")
    link = http.get("/unsubscribe/whatever.token")

    assert "x-frame-options" not in form.headers
    assert "frame-ancestors *" in form.headers["content-security-policy"]
    for response in (form, link):
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert response.headers["referrer-policy"] == "no-referrer"
    assert link.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in link.headers["content-security-policy"]
    assert link.headers["cache-control"] == "no-store"


def test_cors_only_for_configured_origins(live_server: Start) -> None:
    """A configured origin may POST from a script; another gets no CORS grant."""
    live = live_server('[web]\ncors_origins = ["https://www.maddyness.com"]\n')
    http = live.client()

    def preflight(origin: str) -> dict[str, str]:
        return dict(
            http.options(
                "/subscribe",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type",
                },
            ).headers
        )

    allowed = preflight("https://www.maddyness.com")
    refused = preflight("https://evil.example")
    posted = http.post(
        "/subscribe",
        json={"email": "gus@example.org"},
        headers={"Origin": "https://www.maddyness.com"},
    )

    assert allowed.get("access-control-allow-origin") == "https://www.maddyness.com"
    assert "access-control-allow-origin" not in refused
    assert posted.status_code == 202
    assert posted.headers["access-control-allow-origin"] == "https://www.maddyness.com"
    live.stored()
    assert (
        live.services.store.subscribers.consent(
            live.services.store.subscribers.by_email("gus@example.org").id  # type: ignore[union-attr]
        )["consent_source"]
        == "web-json https://www.maddyness.com"
    )  # type: ignore[index]


def test_healthz_and_openapi(live_server: Start) -> None:
    """/healthz answers ok; /openapi.json documents the public endpoints with schemas."""
    live = live_server()
    http = live.client()

    health = http.get("/healthz")
    spec = http.get("/openapi.json").json()

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    paths = spec["paths"]
    assert set(paths) >= {
        "/subscribe",
        "/confirm/{token}",
        "/unsubscribe/{token}",
        "/webhooks/sendgrid",
        "/healthz",
    }
    assert set(paths["/confirm/{token}"]) == {"get", "post"}
    body = paths["/subscribe"]["post"]["requestBody"]["content"]
    assert set(body) == {
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }
    assert body["application/json"]["schema"]["required"] == ["email"]
    assert set(paths["/subscribe"]["post"]["responses"]) >= {"202", "413", "422", "429"}


def test_pending_rows_survive_in_the_database(live_server: Start) -> None:
    """Every 202 is a stored pending subscriber with a confirmation owed or sent."""
    live = live_server()
    http = live.client()
    for n in range(5):
        assert http.post("/subscribe", json={"email": f"p{n}@example.org"}).status_code == 202
    live.settle()
    with live.services.store.engine.connect() as connection:
        rows = connection.execute(subscribers_table.select()).all()
    assert sorted(row.email for row in rows) == [f"p{n}@example.org" for n in range(5)]
    assert {row.status for row in rows} == {"pending"}
    assert all(row.confirmation_sent_at is not None for row in rows)
