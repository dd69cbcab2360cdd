"""Desk access control: login, sessions, CSRF and origin checks, the login rate limit, and
isolation between deployments."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from newsletter.curate.editors import add_editor
from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import IssueState
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.runtime.wiring import Services
from newsletter.web.desk import ROUTERS, security
from tests.conftest import _postgres_schema, write_config
from tests.desk_support import (
    BASE,
    EDITOR,
    PASSWORD,
    client_for,
    csrf_of,
    logged_in,
    newsroom,
)


def desk_routes(services: Services) -> list[tuple[str, str]]:
    """(method, path) of every desk route but the login page and form."""
    found = []
    for route in (route for router in ROUTERS for route in router.routes):
        if not isinstance(route, APIRoute) or not route.path.startswith("/desk"):
            continue
        if route.path == "/desk/login" or route.path.startswith("/desk/password/"):
            continue  # the login form, and the one-time password links (the link is the proof)
        for method in sorted(route.methods):
            found.append((method, route.path))
    return found


def concrete(path: str, issue_id: int, article_id: int) -> str:
    path = path.replace("{issue_id}", str(issue_id)).replace("{article_id}", str(article_id))
    return path.replace("{editor_id}", "1").replace("{subscriber_id}", "1")


def test_every_desk_route_refuses_anonymous_access(services: Services) -> None:
    """Without a session, pages redirect to the login form and everything else answers 401."""
    issue = newsroom(services)
    client = client_for(services)
    routes = desk_routes(services)
    assert len(routes) >= 20
    for method, path in routes:
        url = concrete(path, issue.id, issue.items[0].article.id)
        response = client.request(method, url, data={"confirm": "yes"})
        if method == "GET" and not path.endswith(".json"):
            assert response.status_code == 303, (method, url)
            assert response.headers["location"].startswith("/desk/login?next=/desk"), url
        else:
            assert response.status_code == 401, (method, url, response.status_code)
    assert services.store.issues.get(issue.id) == issue


def test_every_desk_post_refuses_cross_site_forms(services: Services) -> None:
    """A logged-in editor's browser posting without the token, with a wrong one, or from
    another origin changes nothing: 403."""
    issue = newsroom(services)
    client, csrf = logged_in(services)
    posts = [path for method, path in desk_routes(services) if method == "POST"]
    assert len(posts) >= 10
    for path in posts:
        url = concrete(path, issue.id, issue.items[0].article.id)
        form = {"confirm": "yes", "date": "2030-01-07", "time": "08:00", "subject": "Piraté"}
        assert client.post(url, data=form).status_code == 403, url
        assert client.post(url, data={**form, "csrf": csrf[:-2] + "xx"}).status_code == 403
        foreign = client.post(
            url, data={**form, "csrf": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403, url
        referred = client.post(
            url, data={**form, "csrf": csrf}, headers={"Referer": "https://evil.example/x"}
        )
        assert referred.status_code == 403, url
    assert services.store.issues.get(issue.id) == issue
    # The same form with the right token and this site's origin goes through.
    accepted = client.post(
        f"/desk/issues/{issue.id}/schedule",
        data={"csrf": csrf, "date": "2030-01-07", "time": "08:00"},
        headers={"Origin": BASE},
    )
    assert accepted.status_code == 303
    scheduled = services.store.issues.get(issue.id)
    assert scheduled is not None and scheduled.state is IssueState.SCHEDULED


def test_login_form_needs_its_token_and_right_password(services: Services) -> None:
    """The login form is CSRF-protected too; a wrong password is a 401 page."""
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD)
    client = client_for(services)
    token = csrf_of(client.get("/desk/login").text)
    forged = client.post("/desk/login", data={"name": EDITOR, "password": PASSWORD})
    assert forged.status_code == 403
    wrong = client.post(
        "/desk/login", data={"csrf": token, "name": EDITOR, "password": "wrong password"}
    )
    assert wrong.status_code == 401
    assert "incorrect" in wrong.text
    assert security.SESSION_COOKIE not in client.cookies


def test_session_cookie_flags(services: Services) -> None:
    """The session cookie is HttpOnly, SameSite=Lax, scoped to /desk and Secure on https."""
    newsroom(services)
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD)
    client = client_for(services)
    token = csrf_of(client.get("/desk/login").text)
    response = client.post(
        "/desk/login", data={"csrf": token, "name": EDITOR, "password": PASSWORD}
    )
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(security.SESSION_COOKIE)
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax", "path=/desk"} <= flags


def test_login_is_rate_limited(services: Services, clock: FrozenClock) -> None:
    """After too many failures even the right password is refused until the window passes."""
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD)
    client = client_for(services)
    attempts = services.config.settings.desk.login_attempts
    token = csrf_of(client.get("/desk/login").text)
    for _ in range(attempts):
        wrong = client.post(
            "/desk/login", data={"csrf": token, "name": EDITOR, "password": "nope nope nope"}
        )
        assert wrong.status_code == 401
    blocked = client.post("/desk/login", data={"csrf": token, "name": EDITOR, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    clock.advance(minutes=services.config.settings.desk.login_window_minutes + 1)
    allowed = client.post("/desk/login", data={"csrf": token, "name": EDITOR, "password": PASSWORD})
    assert allowed.status_code == 303


def test_unknown_and_known_names_cost_the_same(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every login attempt (unknown name, known name with a wrong or the right password) runs
    exactly one scrypt of the same cost: response time cannot tell which names exist."""
    add_editor(services.store.editors, services.clock(), EDITOR, PASSWORD)
    client = client_for(services)
    token = csrf_of(client.get("/desk/login").text)
    real_scrypt = hashlib.scrypt
    calls: list[tuple[int, int, int]] = []

    def counting_scrypt(password: bytes, **options: Any) -> bytes:
        calls.append((options["n"], options["r"], options["p"]))
        return real_scrypt(password, **options)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    costs = []
    for name, password in [
        ("nobody", "some password"),
        ("Camille", "some password"),  # names are exact: unknown
        (EDITOR, "wrong password"),
        (EDITOR, PASSWORD),
    ]:
        calls.clear()
        client.post("/desk/login", data={"csrf": token, "name": name, "password": password})
        costs.append(list(calls))

    assert len(costs[0]) == 1, costs
    assert costs == [costs[0]] * 4


def test_session_expires_and_logout_clears_it(services: Services, clock: FrozenClock) -> None:
    """A session lasts `desk.session_hours`; logging out removes the cookie."""
    client, csrf = logged_in(services)
    clock.advance(hours=services.config.settings.desk.session_hours + 1)
    assert client.get("/desk").status_code == 303
    client, csrf = logged_in_again(services)
    out = client.post("/desk/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert security.SESSION_COOKIE not in client.cookies
    assert client.get("/desk").status_code == 303


def test_logout_ends_copies_of_the_session_too(services: Services) -> None:
    """A copied session cookie stops working once its editor logs out, and login works again."""
    client, csrf = logged_in(services)
    stolen = client.cookies[security.SESSION_COOKIE]
    assert client.post("/desk/logout", data={"csrf": csrf}).status_code == 303
    thief = client_for(services)
    thief.cookies.set(security.SESSION_COOKIE, stolen, path="/desk")
    assert thief.get("/desk").status_code == 303
    again, _ = logged_in_again(services)
    assert again.get("/desk").status_code == 200


def logged_in_again(services: Services) -> tuple[object, str]:
    client = client_for(services)
    token = csrf_of(client.get("/desk/login").text)
    client.post("/desk/login", data={"csrf": token, "name": EDITOR, "password": PASSWORD})
    return client, csrf_of(client.get("/desk").text)


def test_changing_the_password_ends_open_sessions(services: Services) -> None:
    """A session is bound to the editor's current password hash."""
    client, _ = logged_in(services)
    from sqlalchemy import update

    from newsletter.curate.passwords import hash_password
    from newsletter.store.desk_tables import editors

    with services.store.engine.begin() as connection:
        connection.execute(update(editors).values(password_hash=hash_password("another secret!")))
    assert client.get("/desk").status_code == 303


@pytest.fixture
def other_deployment(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[Services]:
    """A second deployment: its own database (same engine kind) and its own secret key."""
    folder = tmp_path / "other"
    folder.mkdir()
    schemas: Iterator[str] | None = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'other.db'}"
    else:
        schemas = _postgres_schema()
        url = next(schemas)
    path = write_config(folder, url)
    config = config_module.load(path, {"NEWSLETTER_SECRET_KEY": "another-deployment"})
    built = wiring.build(config, clock=clock, provider=MemoryProvider(sender_of(config)))
    built.store.migrate()
    yield built
    built.close()
    if schemas is not None:
        for _ in schemas:
            pass


def test_a_session_of_one_deployment_is_refused_by_another(
    services: Services, other_deployment: Services, clock: FrozenClock
) -> None:
    """Two apps, two databases: an editor logged in on one cannot use its cookie on the other,
    even where an editor with the same id and name exists."""
    newsroom(services)
    newsroom(other_deployment)
    client, _ = logged_in(services)
    cookie = client.cookies[security.SESSION_COOKIE]
    add_editor(
        other_deployment.store.editors, other_deployment.clock(), EDITOR, "a different password"
    )
    other = client_for(other_deployment)
    other.cookies.set(security.SESSION_COOKIE, cookie, domain="news.example.org", path="/desk")
    assert other.get("/desk").status_code == 303
    assert other.get("/desk/issues/1").status_code == 303
    assert other.get("/desk/subscribers/export.csv").status_code == 303
    # Even with the same secret key the editor's password fingerprint differs.
    same_key = security.open_session("test-secret", cookie, clock(), timedelta(hours=12))
    assert same_key is not None
    resealed = security.seal_session("another-deployment", same_key)
    other.cookies.set(security.SESSION_COOKIE, resealed, domain="news.example.org", path="/desk")
    assert other.get("/desk").status_code == 303


def test_plain_http_deployment_does_not_mark_cookies_secure(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> None:
    """Secure cookies only when base_url is https (a plain-http dev setup must still log in)."""
    folder = tmp_path / "plain"
    folder.mkdir()
    path = write_config(folder, database_url)
    path.write_text(path.read_text().replace(BASE, "http://127.0.0.1:8000"))
    config = config_module.load(path, {"NEWSLETTER_SECRET_KEY": "k"})
    built = wiring.build(config, clock=clock, provider=MemoryProvider(sender_of(config)))
    built.store.migrate()
    try:
        add_editor(built.store.editors, built.clock(), EDITOR, PASSWORD)
        client = client_for(built, "http://127.0.0.1:8000")
        token = csrf_of(client.get("/desk/login").text)
        response = client.post(
            "/desk/login", data={"csrf": token, "name": EDITOR, "password": PASSWORD}
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert re.search(r"(?i)httponly", cookie) and not re.search(r"(?i);\s*secure", cookie)
        assert client.get("/desk").status_code == 200
    finally:
        built.close()


def test_session_tokens_are_signed_and_expire() -> None:
    """Pure checks of the session seal: tampering, another key and age all fail."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    session = security.new_session(3, "abc", now)
    sealed = security.seal_session("k1", session)
    assert security.open_session("k1", sealed, now, timedelta(hours=1)) == session
    assert security.open_session("k2", sealed, now, timedelta(hours=1)) is None
    body, _, mac = sealed.partition(".")
    assert security.open_session("k1", body[:-1] + "A." + mac, now, timedelta(hours=1)) is None
    later = now + timedelta(hours=2)
    assert security.open_session("k1", sealed, later, timedelta(hours=1)) is None
    assert security.csrf_valid("k1", session.nonce, security.csrf_token("k1", session.nonce))
    assert not security.csrf_valid("k1", "other", security.csrf_token("k1", session.nonce))


def test_every_page_uses_the_one_templates_object(services: Services) -> None:
    """Public pages, the desk and the archive render with the environment built by create_app."""
    app = client_for(services).app
    templates = app.state.templates
    assert app.state.public.pages is templates
    assert app.state.desk.env is templates
