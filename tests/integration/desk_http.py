"""Logging in to the desk over real HTTP. The test server's base_url is https, so its cookies
are Secure and an httpx client on http keeps none: they are carried by hand."""

from __future__ import annotations

import re

import httpx


def log_in(http: httpx.Client, name: str, password: str) -> httpx.Response:
    """Fetch the login form and post it (with its cookie and CSRF token)."""
    page = http.get("/desk/login")
    anchor = cookie_set(page, "desk_login")
    return http.post(
        "/desk/login",
        data={"csrf": csrf_in(page.text), "name": name, "password": password},
        headers={"Cookie": f"desk_login={anchor}"},
    )


def session(http: httpx.Client, name: str, password: str) -> tuple[str, str]:
    """A desk session cookie and the CSRF token of its forms."""
    cookie = cookie_set(log_in(http, name, password), "desk_session")
    desk = http.get("/desk", headers={"Cookie": f"desk_session={cookie}"})
    return cookie, csrf_in(desk.text)


def cookie_set(answer: httpx.Response, name: str) -> str:
    found = re.search(rf"{name}=([^;]+)", answer.headers.get("set-cookie", ""))
    assert found, (answer.status_code, dict(answer.headers))
    return found.group(1)


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)
