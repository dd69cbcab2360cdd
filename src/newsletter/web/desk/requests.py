"""What every desk route shares: the desk's state, the logged-in editor, the CSRF-checked form,
rendering a page, redirects, and reading form fields and filters.

Every route needs a logged-in editor (`Authed`); every POST also needs the form's CSRF token
and, when the browser says where it comes from, this site's origin (`Posted`). Admin actions
take `Admin` / `AdminPosted`: an editor gets a 403 however the request is made (a page in the
desk's layout for a browser, JSON `{"detail": ...}` for the scripts' fetch calls). The desk's
state is built once by `create_app` and reached through `request.app.state.desk`.
"""

# No `from __future__ import annotations`: FastAPI reads these dependencies' annotations.
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Depends, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from newsletter.curate.editors import Editor, get_editor
from newsletter.domain.errors import NewsletterError
from newsletter.domain.french import fold
from newsletter.runtime.wiring import Services, secret_key
from newsletter.store.desk import DeskQueries
from newsletter.store.people import PeopleQueries
from newsletter.web.desk import security
from newsletter.web.desk.labels import ISSUE_STATES, NOTICES, PROBLEMS, SUBSCRIBER_STATES
from newsletter.web.guard import Policy, declare
from newsletter.web.params import from_browser, is_control

PAGE_SIZE = 50
# A page number beyond this is refused (422): its offset would overflow the database's integers.
Page = Annotated[int, Query(ge=1, le=1_000_000, description="page number")]

# The desk's pages run its own script and show feed images; nothing frames them.
DESK_PAGE = Policy(
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https: http:; frame-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    referrer="same-origin",
    cache="no-store",
)


class Desk:
    """The desk's state, built once per app: services, templates, the login limiter."""

    def __init__(self, services: Services, templates: jinja2.Environment) -> None:
        self.services = services
        settings = services.config.settings
        self.settings = settings
        self.zone = ZoneInfo(settings.newsletter.timezone)
        self.env = templates
        self.queries = DeskQueries(services.store.engine)
        self.people = PeopleQueries(services.store.engine)
        self.lifetime = timedelta(hours=settings.desk.session_hours)
        self.limiter = security.LoginLimiter(
            attempts=settings.desk.login_attempts,
            client_attempts=settings.desk.login_attempts_per_client,
            window=timedelta(minutes=settings.desk.login_window_minutes),
        )
        self.secure_cookies = settings.newsletter.base_url.startswith("https://")
        self._secret: str | None = None

    @property
    def secret(self) -> str:
        if self._secret is None:
            self._secret = secret_key(self.services.config)
        return self._secret

    def now(self) -> datetime:
        return self.services.clock()

    def sections(self) -> list[str]:
        """Every section the desk lists (the inbox's filter, an item's choices): the configured
        `[[sections]]` in their order, then the feeds' others alphabetically (case and accents
        aside, so "À la une" comes before "Tech")."""
        rules = [rule.name for rule in self.settings.sections]
        configured = {feed.section for feed in self.settings.feeds if feed.section}
        others = (configured | self.queries.sections()) - set(rules)
        return [*rules, *sorted(others, key=lambda name: (fold(name), name))]

    def page(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        session: security.Session | None = getattr(request.state, "session", None)
        anchor = context.pop("anchor", None) or (
            session.nonce if session else request.cookies.get(security.LOGIN_COOKIE, "")
        )
        notice = NOTICES.get(request.query_params.get("ok", ""))
        problem = PROBLEMS.get(request.query_params.get("err", ""))
        body = self.env.get_template(template).render(
            newsletter=self.settings.newsletter.name,
            csrf=security.csrf_token(self.secret, anchor) if anchor else "",
            editor=getattr(request.state, "editor", None),
            notice=notice,
            problem=context.pop("problem", None) or problem,
            path=request.url.path,
            issue_states=ISSUE_STATES,
            subscriber_states=SUBSCRIBER_STATES,
            **context,
        )
        declare(request, DESK_PAGE)
        return HTMLResponse(body, status_code=status_code)

    def cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=security.COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )

    def allowed_origins(self, request: Request) -> set[str]:
        allowed = {security.origin_of(self.settings.newsletter.base_url)}
        host = request.headers.get("host")
        if host:
            allowed.add(security.origin_of(f"{request.url.scheme}://{host}"))
        return {origin for origin in allowed if origin}


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


DeskState = Annotated[Desk, Depends(desk_of)]


def current_editor(request: Request, desk: DeskState) -> Editor:
    cookie = request.cookies.get(security.SESSION_COOKIE)
    session = (
        security.open_session(desk.secret, cookie, desk.now(), desk.lifetime) if cookie else None
    )
    editor = get_editor(desk.services.store.editors, session.editor_id) if session else None
    if (
        session is None
        or editor is None
        or editor.credential_version != (session.credential_version)
    ):
        if request.method == "GET" and not request.url.path.endswith(".json"):
            target = quote(request.url.path, safe="/")
            raise HTTPException(303, headers={"Location": f"/desk/login?next={target}"})
        raise HTTPException(401, "login required")
    request.state.session = session
    request.state.editor = editor
    return editor


Authed = Annotated[Editor, Depends(current_editor)]


def verify_post(request: Request, desk: Desk, form: FormData, anchor: str | None) -> None:
    origin_ok = security.same_origin(
        request.headers.get("origin"),
        request.headers.get("referer"),
        desk.allowed_origins(request),
    )
    token = form.get("csrf")
    if not origin_ok or not security.csrf_valid(
        desk.secret, anchor, token if isinstance(token, str) else None
    ):
        raise HTTPException(403, "cross-site or expired form: reload the page and try again")


async def posted(request: Request, desk: DeskState, editor: Authed) -> FormData:
    """The form of a POST from this site, carrying this session's CSRF token."""
    form = await request.form()
    verify_post(request, desk, form, request.state.session.nonce)
    return form


Posted = Annotated[FormData, Depends(posted)]


class AdminsOnly(NewsletterError, HTTPException):
    """An editor asked for an admin's page or action: 403, answered by `admins_only` (an
    HTTPException too, so that a route without that handler still answers 403)."""

    def __init__(self) -> None:
        HTTPException.__init__(self, 403, "réservé aux administrateurs")
        self.message = "réservé aux administrateurs"


async def admins_only(request: Request, exc: Exception) -> Response:
    """The 403 of `AdminsOnly`: a desk page for a browser, JSON for a script."""
    if from_browser(request):
        return desk_of(request).page(request, "desk/admins_only.html", status_code=403)
    assert isinstance(exc, AdminsOnly)  # the handler of AdminsOnly only
    return await http_exception_handler(request, exc)


def admin(request: Request, editor: Authed) -> Editor:
    """The logged-in editor, who must be an admin: 403 otherwise, whatever the page showed."""
    if not editor.is_admin:
        raise AdminsOnly()
    return editor


Admin = Annotated[Editor, Depends(admin)]


async def admin_posted(request: Request, desk: DeskState, editor: Admin) -> FormData:
    """`Posted`, by an admin."""
    return await posted(request, desk, editor)


AdminPosted = Annotated[FormData, Depends(admin_posted)]


async def admin_sends(request: Request, desk: DeskState, editor: Admin) -> FormData:
    """`AdminPosted` for sending and scheduling an issue, logged as asked (path and time)."""
    form = await posted(request, desk, editor)
    log_action(request, desk, "issue_send", request.url.path)
    return form


AdminSends = Annotated[FormData, Depends(admin_sends)]


def log_action(request: Request, desk: "Desk", action: str, target: str) -> None:
    """Record who did what, and when, in the desk's log (shown to admins)."""
    desk.services.store.editors.log(desk.now(), request.state.editor.name, action, target)


def redirect(url: str, **query: str) -> RedirectResponse:
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def safe_next(value: str | None, default: str = "/desk") -> str:
    """A same-site desk path to go back to; anything else falls back to `default`."""
    if value and value.startswith("/desk") and "//" not in value and "\\" not in value:
        return value
    return default


def filter_text(name: str, value: str) -> str:
    """A filter's text from the query string; 422 when it holds control characters (which
    match nothing, and PostgreSQL refuses NUL outright)."""
    if any(is_control(ch) for ch in value):
        raise HTTPException(422, f"le filtre « {name} » contient des caractères de contrôle")
    return value


def field(form: FormData, name: str, limit: int, multiline: bool = False) -> str:
    """A form field's text: line breaks normalised (none unless `multiline`), no other
    control character (PostgreSQL refuses NUL), at most `limit` characters."""
    value = form.get(name, "")
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if not is_control(ch) or ch in "\n\t")
    if not multiline:
        text = " ".join(text.split())
    return text.strip()[:limit]
