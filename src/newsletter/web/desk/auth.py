"""Logging in and out of the desk, and its script (served to logged-in editors only)."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from newsletter.curate.editors import authenticate, end_sessions
from newsletter.web.desk import security
from newsletter.web.desk.requests import Authed, DeskState, Posted, redirect, safe_next, verify_post

STATIC = Path(__file__).parent.parent / "static"

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/login")
def login_page(request: Request, desk: DeskState, next: str = "/desk") -> HTMLResponse:
    anchor = (
        request.cookies.get(security.LOGIN_COOKIE) or security.new_session(0, "", desk.now()).nonce
    )
    response = desk.page(request, "desk/login.html", anchor=anchor, next=safe_next(next), name="")
    desk.cookie(response, security.LOGIN_COOKIE, anchor, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request, desk: DeskState) -> Response:
    form = await request.form()
    verify_post(request, desk, form, request.cookies.get(security.LOGIN_COOKIE))
    name = str(form.get("name", "")).strip()[:200]
    password = str(form.get("password", ""))[:1024]
    target = safe_next(str(form.get("next", "/desk")))
    client = request.client.host if request.client else "unknown"
    now = desk.now()
    if desk.limiter.blocked(name, client, now):
        response = desk.page(
            request,
            "desk/login.html",
            status_code=429,
            next=target,
            name=name,
            problem="Trop de tentatives : réessayez dans quelques minutes.",
        )
        response.headers["Retry-After"] = str(int(desk.limiter.window.total_seconds()))
        return response
    editor = await _threaded(authenticate, desk.services.store.editors, name, password)
    if editor is None:
        desk.limiter.failed(name, client, now)
        return desk.page(
            request,
            "desk/login.html",
            status_code=401,
            next=target,
            name=name,
            problem="Nom ou mot de passe incorrect.",
        )
    desk.limiter.succeeded(name, client)
    session = security.new_session(editor.id, editor.credential_version, now)
    success = redirect(target)
    desk.cookie(
        success,
        security.SESSION_COOKIE,
        security.seal_session(desk.secret, session),
        max_age=int(desk.lifetime.total_seconds()),
    )
    success.delete_cookie(security.LOGIN_COOKIE, path=security.COOKIE_PATH)
    return success


@router.post("/logout")
def logout(form: Posted, request: Request, desk: DeskState) -> Response:
    end_sessions(desk.services.store.editors, request.state.editor.id)
    response = redirect("/desk/login", ok="loggedout")
    response.delete_cookie(
        security.SESSION_COOKIE,
        path=security.COOKIE_PATH,
        secure=desk.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


ASSETS = {
    "common.js": "text/javascript; charset=utf-8",
    "desk.js": "text/javascript; charset=utf-8",
    "editor.js": "text/javascript; charset=utf-8",
    "editor.css": "text/css; charset=utf-8",
}


@router.get("/assets/{name}")
def asset(name: str, editor: Authed) -> Response:
    """The desk's script, the editor's script and its style sheet; nothing else."""
    if name not in ASSETS:
        raise HTTPException(404)
    return Response(
        (STATIC / name).read_text(encoding="utf-8"),
        media_type=ASSETS[name],
        headers={"Cache-Control": "private, max-age=300"},
    )


async def _threaded(func: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(func, *args)
