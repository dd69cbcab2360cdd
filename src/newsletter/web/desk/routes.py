"""The editors' desk under /desk: login, inbox, issue editor, preview, sending, subscribers.

Every route needs a logged-in editor; every POST also needs the form's CSRF token and, when the
browser says where it comes from, this site's origin. Pages are rendered on the server; the
little JavaScript there is (`/desk/assets/desk.js`) only enhances forms that work without it.
"""

# No `from __future__ import annotations` here: FastAPI must see the real annotations of the
# route functions, whose dependencies are defined inside `desk_router`.
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.datastructures import FormData

from newsletter.curate import issues as issue_cases
from newsletter.curate.editors import Editor, authenticate, end_sessions, get_editor
from newsletter.curate.states import is_editable, is_published
from newsletter.domain.errors import InvalidAddress, NewsletterError, UsageError
from newsletter.domain.model import MAX_ROW_ID, Issue, IssueState, RenderedMessage, SubscriberStatus
from newsletter.render.clipping import GMAIL_CLIP_BYTES
from newsletter.render.personalise import personalise
from newsletter.runtime.wiring import Services, secret_key
from newsletter.store.desk import DeskQueries, InboxFilter
from newsletter.store.issues import NewItem
from newsletter.web.desk import security
from newsletter.web.desk.checks import Alert, check_issue
from newsletter.web.desk.growth import growth_svg, weeks
from newsletter.web.pages import environment
from newsletter.web.params import RowId, is_control

PAGE_SIZE = 50
# A page number beyond this is refused (422): its offset would overflow the database's integers.
Page = Annotated[int, Query(ge=1, le=1_000_000, description="page number")]
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # of the inbox's date filters
STATIC = Path(__file__).parent.parent / "static"

ISSUE_STATES = {
    IssueState.DRAFT: "Brouillon",
    IssueState.SCHEDULED: "Programmé",
    IssueState.SENDING: "Envoi en cours",
    IssueState.SENT: "Envoyé",
    IssueState.CANCELED: "Annulé",
}
SUBSCRIBER_STATES = {
    SubscriberStatus.PENDING: "En attente de confirmation",
    SubscriberStatus.ACTIVE: "Actif",
    SubscriberStatus.UNSUBSCRIBED: "Désinscrit",
    SubscriberStatus.BOUNCED: "Adresse en échec",
    SubscriberStatus.COMPLAINED: "Signalé comme spam",
}
# Messages shown after a redirect, by code: nothing from the query string is shown as is.
NOTICES = {
    "saved": "Modifications enregistrées.",
    "added": "Article ajouté au numéro.",
    "dismissed": "Article écarté de la boîte de réception.",
    "restored": "Article rétabli.",
    "scheduled": "Numéro programmé.",
    "unscheduled": "Programmation annulée : le numéro est redevenu un brouillon.",
    "sending": "Envoi lancé : il démarre dans la minute.",
    "canceled": "Numéro annulé.",
    "reopened": "Numéro rouvert comme brouillon.",
    "tested": "Copie de test envoyée.",
    "drafted": "Nouveau brouillon créé.",
    "loggedout": "Vous êtes déconnecté·e.",
    "subscribed": "Abonné ajouté.",
    "known": "Cette adresse est déjà inscrite : rien n’a changé.",
}
PROBLEMS = {
    "state": "Cette action n’est pas possible dans l’état actuel du numéro.",
    "empty": "Le numéro ne contient aucun article.",
    "past": "Cette date est passée : choisissez une date future ou « Envoyer maintenant ».",
    "when": "Date ou heure invalide.",
    "address": "Adresse e-mail invalide pour la copie de test.",
    "provider": "Le fournisseur d’e-mail a refusé la copie de test.",
    "nodraft": "Aucun brouillon ouvert : créez-en un depuis le tableau de bord.",
    "confirm": "Cochez la case de confirmation pour envoyer.",
    "render": "L’e-mail n’a pas pu être généré (voir les journaux).",
    "subscriber": "Adresse e-mail invalide : l’abonné n’a pas été ajouté.",
    "erased": "Cette adresse a été effacée à la demande de son titulaire : seule sa propre "
    "inscription peut la rétablir.",
}


@dataclass(frozen=True)
class EventCounts:
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    available: bool = False


class Desk:
    """Everything the desk's routes share: services, templates, the login limiter."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.config.settings
        self.settings = settings
        self.zone = ZoneInfo(settings.newsletter.timezone)
        self.env: jinja2.Environment = environment(settings.newsletter.timezone)
        self.queries = DeskQueries(services.store.engine)
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

    # -- pages -------------------------------------------------------------------------------

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
        return HTMLResponse(body, status_code=status_code, headers=page_headers())

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

    # -- rendering ---------------------------------------------------------------------------

    def render(self, issue: Issue) -> RenderedMessage:
        from newsletter.render.renderer import Renderer

        return Renderer(self.services.config).render_issue(issue)

    def preview_copy(self, issue: Issue, editor: Editor) -> tuple[str, str]:
        """The exact email as a reader gets it, personalised for the editor (inert unsubscribe)."""
        rendered = self.render(issue)
        recipient = issue_cases.test_recipient(self.services, editor.email or "apercu@example.org")
        copy = personalise(rendered, recipient)
        return copy.html, copy.text

    def event_counts(self, issue_id: int) -> EventCounts:
        """Recipients per SendGrid event kind, from the signed event webhook."""
        counts = self.services.store.events.unique_counts(issue_id)

        def total(*kinds: str) -> int:
            return sum(counts.get(kind, 0) for kind in kinds)

        return EventCounts(
            delivered=total("delivered"),
            bounced=total("bounce", "dropped"),
            opened=total("open"),
            clicked=total("click"),
            unsubscribed=total("unsubscribe", "group_unsubscribe"),
            available=bool(counts),  # no event yet: the page explains where numbers come from
        )


def page_headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: https: http:; frame-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def preview_headers() -> dict[str, str]:
    return {
        "Cache-Control": "no-store",
        # The email may show remote images; it may run nothing and post nowhere.
        "Content-Security-Policy": (
            "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
            "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
        ),
        "X-Frame-Options": "SAMEORIGIN",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def redirect(url: str, **query: str) -> RedirectResponse:
    if query:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def safe_next(value: str | None, default: str = "/desk") -> str:
    """A same-site desk path to go back to; anything else falls back to `default`."""
    if value and value.startswith("/desk") and "//" not in value and "\\" not in value:
        return value
    return default


def desk_router(services: Services) -> APIRouter:
    desk = Desk(services)
    router = APIRouter(prefix="/desk", include_in_schema=False)

    # -- access ------------------------------------------------------------------------------

    def current_editor(request: Request) -> Editor:
        cookie = request.cookies.get(security.SESSION_COOKIE)
        session = (
            security.open_session(desk.secret, cookie, desk.now(), desk.lifetime)
            if cookie
            else None
        )
        editor = get_editor(services, session.editor_id) if session else None
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

    async def posted(
        request: Request, editor: Annotated[Editor, Depends(current_editor)]
    ) -> FormData:
        """The form of a POST from this site, carrying this session's CSRF token."""
        form = await request.form()
        verify_post(request, form, request.state.session.nonce)
        return form

    def verify_post(request: Request, form: FormData, anchor: str | None) -> None:
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

    Authed = Annotated[Editor, Depends(current_editor)]
    Posted = Annotated[FormData, Depends(posted)]

    # -- login -------------------------------------------------------------------------------

    @router.get("/login")
    def login_page(request: Request, next: str = "/desk") -> HTMLResponse:
        anchor = (
            request.cookies.get(security.LOGIN_COOKIE)
            or security.new_session(0, "", desk.now()).nonce
        )
        response = desk.page(
            request, "desk/login.html", anchor=anchor, next=safe_next(next), name=""
        )
        desk.cookie(response, security.LOGIN_COOKIE, anchor, max_age=3600)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        verify_post(request, form, request.cookies.get(security.LOGIN_COOKIE))
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
        editor = await _threaded(authenticate, services, name, password)
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
    def logout(form: Posted, request: Request) -> Response:
        end_sessions(services, request.state.editor.id)
        response = redirect("/desk/login", ok="loggedout")
        response.delete_cookie(
            security.SESSION_COOKIE,
            path=security.COOKIE_PATH,
            secure=desk.secure_cookies,
            httponly=True,
            samesite="lax",
        )
        return response

    @router.get("/assets/desk.js")
    def script(editor: Authed) -> Response:
        return Response(
            (STATIC / "desk.js").read_text(encoding="utf-8"),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    # -- dashboard ---------------------------------------------------------------------------

    @router.get("")
    def dashboard(request: Request, editor: Authed) -> HTMLResponse:
        all_issues = services.store.issues.all()
        counts = desk.queries.status_counts()
        chart_weeks = weeks(desk.now(), desk.settings.newsletter.timezone, 12)
        series = desk.queries.active_at([end for _, end in chart_weeks])
        points = [(start, value) for (start, _), value in zip(chart_weeks, series, strict=True)]
        feeds = services.store.feeds.all()
        return desk.page(
            request,
            "desk/dashboard.html",
            issues=all_issues,
            draft=_open_draft(all_issues),
            counts=counts,
            chart=growth_svg(points),
            points=points,
            feeds=feeds,
            failing=[feed for feed in feeds if feed.last_status == "error"],
        )

    @router.post("/issues/draft")
    def new_draft(form: Posted) -> Response:
        outcome = issue_cases.draft(services)
        if outcome.issue is None:
            return redirect("/desk", err="empty")
        return redirect(f"/desk/issues/{outcome.issue.id}", ok="drafted")

    # -- inbox -------------------------------------------------------------------------------

    @router.get("/inbox")
    def inbox(
        request: Request,
        editor: Authed,
        feed: str = "",
        section: str = "",
        q: str = "",
        since: str = "",
        until: str = "",
        dismissed: str = "",
        page: Page = 1,
    ) -> HTMLResponse:
        chosen = InboxFilter(
            feed=_filter_text("feed", feed) or None,
            section=_filter_text("section", section) or None,
            text=_filter_text("q", q).strip()[:200] or None,
            since=_local_day(since, desk.zone),
            until=_day_after(until, desk.zone),
            show_dismissed=bool(dismissed),
        )
        entries, total = desk.queries.inbox(chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        uses = desk.queries.uses([entry.article.id for entry in entries])
        all_issues = services.store.issues.all()
        feeds = services.store.feeds.all()
        filters = {
            "feed": feed,
            "section": section,
            "q": q,
            "since": since,
            "until": until,
            "dismissed": dismissed,
        }
        return desk.page(
            request,
            "desk/inbox.html",
            entries=entries,
            uses=uses,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            filters=filters,
            query=urlencode({k: v for k, v in filters.items() if v}),
            feeds=feeds,
            sections=desk.queries.sections(),
            draft=_open_draft(all_issues),
            here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        )

    @router.post("/articles/{article_id}/dismiss")
    def dismiss(article_id: RowId, form: Posted) -> Response:
        restore = form.get("restore") == "1"
        if not desk.queries.set_dismissed(article_id, not restore):
            raise HTTPException(404)
        target = safe_next(str(form.get("next", "")), "/desk/inbox")
        return redirect(target, ok="restored" if restore else "dismissed")

    # -- issues ------------------------------------------------------------------------------

    def load(issue_id: int) -> Issue:
        issue = services.store.issues.get(issue_id)
        if issue is None:
            raise HTTPException(404, "no such issue")
        return issue

    @router.get("/issues/{issue_id}")
    def issue_page(request: Request, issue_id: RowId, editor: Authed) -> HTMLResponse:
        issue = load(issue_id)
        alerts: list[Alert] = check_issue(issue, None)
        candidates = services.store.articles.unused(limit=20) if is_editable(issue.state) else []
        status = services.store.deliveries.status(issue.id, issue.state)
        next_slot = _next_slot(desk)
        return desk.page(
            request,
            "desk/issue.html",
            issue=issue,
            alerts=alerts,
            candidates=candidates,
            sections=_section_names(desk),
            status=status,
            events=desk.event_counts(issue.id) if is_published(issue.state) else None,
            audience=services.store.subscribers.count(SubscriberStatus.ACTIVE),
            slot_date=next_slot.date().isoformat(),
            slot_time=next_slot.strftime("%H:%M"),
            due=issue.state is IssueState.SCHEDULED
            and issue.send_at is not None
            and issue.send_at <= desk.now(),
        )

    @router.post("/issues/{issue_id}")
    def save_issue(issue_id: RowId, form: Posted) -> Response:
        issue = load(issue_id)
        if not is_editable(issue.state):
            return redirect(f"/desk/issues/{issue_id}", err="state")
        items = _items_from_form(issue, form)
        services.store.issues.replace_items(issue_id, items)
        services.store.issues.update_content(
            issue_id,
            subject=_field(form, "subject", 300) or None,
            preheader=_field(form, "preheader", 300),
            intro=_field(form, "intro", 5000, multiline=True),
        )
        anchor = ""
        move = str(form.get("move", ""))
        if move:
            anchor = f"#item-{move.partition(':')[2]}"
        return redirect(f"/desk/issues/{issue_id}?ok=saved{anchor}")

    @router.post("/issues/{issue_id}/add")
    def add_article(issue_id: RowId, form: Posted) -> Response:
        issue = load(issue_id)
        target = safe_next(str(form.get("next", "")), f"/desk/issues/{issue_id}")
        if not is_editable(issue.state):
            return redirect(target, err="state")
        try:
            article_id = int(str(form.get("article_id", "")))
        except ValueError:
            raise HTTPException(400, "article_id must be a number") from None
        if not 1 <= article_id <= MAX_ROW_ID:
            raise HTTPException(400, f"article_id must be between 1 and {MAX_ROW_ID}")
        article = services.store.articles.get(article_id)
        if article is None:
            raise HTTPException(404, "no such article")
        kept = [_keep(item) for item in issue.items]
        if all(item.article_id != article_id for item in kept):
            kept.append(NewItem(article_id=article_id, section=article.section))
            services.store.issues.replace_items(issue_id, kept)
        return redirect(target, ok="added")

    @router.get("/issues/{issue_id}/preview")
    def preview_page(request: Request, issue_id: RowId, editor: Authed) -> HTMLResponse:
        issue = load(issue_id)
        try:
            html, text = desk.preview_copy(issue, editor)
        except NewsletterError as exc:
            return desk.page(
                request, "desk/preview.html", issue=issue, failed=str(exc), alerts=[], size=0
            )
        size = len(html.encode("utf-8"))
        return desk.page(
            request,
            "desk/preview.html",
            issue=issue,
            failed=None,
            text=text,
            size=size,
            limit=GMAIL_CLIP_BYTES,
            percent=min(100, round(size * 100 / GMAIL_CLIP_BYTES)),
            alerts=check_issue(issue, html),
            editor_email=editor.email or "",
        )

    @router.get("/issues/{issue_id}/preview.html")
    def preview_html(issue_id: RowId, editor: Authed) -> Response:
        html, _ = desk.preview_copy(load(issue_id), editor)
        return HTMLResponse(html, headers=preview_headers())

    @router.get("/issues/{issue_id}/preview.txt")
    def preview_text(issue_id: RowId, editor: Authed) -> Response:
        _, text = desk.preview_copy(load(issue_id), editor)
        return PlainTextResponse(text, headers=preview_headers())

    @router.post("/issues/{issue_id}/test")
    def send_test(issue_id: RowId, form: Posted, request: Request) -> Response:
        load(issue_id)
        editor: Editor = request.state.editor
        address = _field(form, "email", 320) or editor.email or ""
        back = f"/desk/issues/{issue_id}/preview"
        try:
            issue_cases.send_test(services, issue_id, address)
        except UsageError:
            return redirect(back, err="state")
        except InvalidAddress:
            return redirect(back, err="address")
        except NewsletterError:
            return redirect(back, err="provider")
        return redirect(back, ok="tested")

    @router.post("/issues/{issue_id}/schedule")
    def schedule(issue_id: RowId, form: Posted) -> Response:
        issue = load(issue_id)
        back = f"/desk/issues/{issue_id}"
        try:
            day = date.fromisoformat(_field(form, "date", 10))
            at = time.fromisoformat(_field(form, "time", 8))
        except ValueError:
            return redirect(back, err="when")
        when = _local(day, at, desk.zone)
        if when <= desk.now():
            return redirect(back, err="past")
        if not issue.items:
            return redirect(back, err="empty")
        try:
            issue_cases.schedule(services, issue_id, when)
        except UsageError:
            return redirect(back, err="state")
        return redirect(back, ok="scheduled")

    @router.post("/issues/{issue_id}/unschedule")
    def unschedule(issue_id: RowId, form: Posted) -> Response:
        load(issue_id)
        try:
            issue_cases.unschedule(services, issue_id)
        except UsageError:
            return redirect(f"/desk/issues/{issue_id}", err="state")
        return redirect(f"/desk/issues/{issue_id}", ok="unscheduled")

    @router.post("/issues/{issue_id}/cancel")
    def cancel(issue_id: RowId, form: Posted) -> Response:
        load(issue_id)
        try:
            issue_cases.cancel(services, issue_id)
        except UsageError:
            return redirect(f"/desk/issues/{issue_id}", err="state")
        return redirect(f"/desk/issues/{issue_id}", ok="canceled")

    @router.post("/issues/{issue_id}/reopen")
    def reopen(issue_id: RowId, form: Posted) -> Response:
        load(issue_id)
        moved = services.store.issues.transition(
            issue_id, (IssueState.CANCELED,), IssueState.DRAFT, send_at=None
        )
        outcome = {"ok": "reopened"} if moved else {"err": "state"}
        return redirect(f"/desk/issues/{issue_id}", **outcome)

    @router.get("/issues/{issue_id}/send")
    def confirm_send(request: Request, issue_id: RowId, editor: Authed) -> HTMLResponse:
        issue = load(issue_id)
        return desk.page(
            request,
            "desk/send.html",
            issue=issue,
            audience=services.store.subscribers.count(SubscriberStatus.ACTIVE),
        )

    @router.post("/issues/{issue_id}/send")
    def send_now(issue_id: RowId, form: Posted) -> Response:
        load(issue_id)
        if form.get("confirm") != "yes":
            return redirect(f"/desk/issues/{issue_id}/send", err="confirm")
        try:
            issue_cases.send_now(services, issue_id)
        except UsageError:
            return redirect(f"/desk/issues/{issue_id}", err="state")
        return redirect(f"/desk/issues/{issue_id}", ok="sending")

    @router.get("/issues/{issue_id}/progress.json")
    def progress(issue_id: RowId, editor: Authed) -> JSONResponse:
        issue = load(issue_id)
        counts = services.store.deliveries.status(issue.id, issue.state)
        done = counts.sent + counts.failed + counts.skipped + counts.uncertain
        return JSONResponse(
            {
                "id": issue.id,
                "state": str(issue.state),
                "label": ISSUE_STATES[issue.state],
                "total": counts.total,
                "sent": counts.sent,
                "failed": counts.failed,
                "pending": counts.pending + counts.sending,
                "skipped": counts.skipped,
                "uncertain": counts.uncertain,
                "percent": round(done * 100 / counts.total) if counts.total else 0,
            },
            headers={"Cache-Control": "no-store"},
        )

    # -- subscribers -------------------------------------------------------------------------

    @router.get("/subscribers")
    def subscribers_page(
        request: Request, editor: Authed, q: str = "", status: str = "", page: Page = 1
    ) -> HTMLResponse:
        chosen = SubscriberStatus(status) if status in set(SubscriberStatus) else None
        found, total = desk.queries.subscribers(
            _filter_text("q", q).strip()[:200] or None, chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE
        )
        filters = {"q": q, "status": status}
        return desk.page(
            request,
            "desk/subscribers.html",
            subscribers=found,
            total=total,
            counts=desk.queries.status_counts(),
            filters=filters,
            query=urlencode({k: v for k, v in filters.items() if v}),
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
        )

    @router.post("/subscribers/add")
    def add_subscriber(form: Posted, request: Request) -> Response:
        """An editor adds one address; they are recorded as its consent's provenance."""
        from newsletter.audience import subscribers as subscriber_cases

        editor: Editor = request.state.editor
        back = "/desk/subscribers"
        try:
            _, created = subscriber_cases.add(
                services,
                _field(form, "email", 400),  # longer than any address: too long is refused
                _field(form, "name", 400) or None,
                confirmed=form.get("confirmed") == "1",
                by=editor.name,
                source="desk",
            )
        except InvalidAddress:
            return redirect(back, err="subscriber")
        except UsageError:
            return redirect(back, err="erased")
        return redirect(back, ok="subscribed" if created else "known")

    @router.get("/subscribers/export.csv")
    def export(editor: Authed) -> StreamingResponse:
        from newsletter.audience.subscribers import export_csv

        stamp = desk.now().astimezone(desk.zone).strftime("%Y-%m-%d")
        return StreamingResponse(
            export_csv(services),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="abonnes-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )

    return router


async def _threaded(func: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)


def _open_draft(all_issues: list[tuple[Issue, int]]) -> Issue | None:
    drafts = [issue for issue, _ in all_issues if issue.state is IssueState.DRAFT]
    return drafts[0] if drafts else None


def _section_names(desk: Desk) -> list[str]:
    configured = [feed.section for feed in desk.settings.feeds if feed.section]
    return list(dict.fromkeys([*configured, *desk.queries.sections()]))


def _next_slot(desk: Desk) -> datetime:
    from newsletter.domain.weekly import WeeklyTime

    digest = desk.settings.digest
    weekly = WeeklyTime.parse(digest.schedule, desk.settings.newsletter.timezone)
    return weekly.next(desk.now()).astimezone(desk.zone)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone)


def _local_day(text: str, zone: ZoneInfo) -> datetime | None:
    """Midnight of a filter's day (YYYY-MM-DD); None when empty; 422 when not a usable day."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"date invalide (AAAA-MM-JJ attendu) : {text[:40]}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        # Beyond these, midnight in UTC or the day after falls outside what dates can hold.
        raise HTTPException(422, f"date hors limites ({FIRST_DAY} à {LAST_DAY}) : {day}")
    return datetime.combine(day, time(0), zone)


def _day_after(text: str, zone: ZoneInfo) -> datetime | None:
    start = _local_day(text, zone)
    return start + timedelta(days=1) if start else None


def _filter_text(name: str, value: str) -> str:
    """A filter's text from the query string; 422 when it holds control characters (which
    match nothing, and PostgreSQL refuses NUL outright)."""
    if any(is_control(ch) for ch in value):
        raise HTTPException(422, f"le filtre « {name} » contient des caractères de contrôle")
    return value


def _field(form: FormData, name: str, limit: int, multiline: bool = False) -> str:
    """A form field's text: line breaks normalised (none unless `multiline`), no other
    control character (PostgreSQL refuses NUL), at most `limit` characters."""
    value = form.get(name, "")
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if not is_control(ch) or ch in "\n\t")
    if not multiline:
        text = " ".join(text.split())
    return text.strip()[:limit]


def _keep(item: Any) -> NewItem:
    return NewItem(
        article_id=item.article.id, section=item.section, title=item.title, summary=item.summary
    )


def _items_from_form(issue: Issue, form: FormData) -> list[NewItem]:
    """The issue's items in the order the form lists them, with the editor's overrides.

    Only articles already in the issue count; a move or a removal asked by a button is applied
    after. A title or summary equal to the article's own is stored as no override.
    """
    current = {item.article.id: item for item in issue.items}
    order: list[int] = []
    for raw in form.getlist("item"):
        try:
            article_id = int(str(raw))
        except ValueError:
            continue
        if article_id in current and article_id not in order:
            order.append(article_id)
    order += [article_id for article_id in current if article_id not in order]
    removed = str(form.get("remove", ""))
    if removed.isdigit():
        order = [i for i in order if i != int(removed)]
    direction, _, moved = str(form.get("move", "")).partition(":")
    if moved.isdigit() and int(moved) in order:
        at = order.index(int(moved))
        to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    items: list[NewItem] = []
    for article_id in order:
        article = current[article_id].article
        if f"title-{article_id}" in form:
            title = _field(form, f"title-{article_id}", 500)
            summary = _field(form, f"summary-{article_id}", 3000, multiline=True)
            section = _field(form, f"section-{article_id}", 200) or None
        else:
            kept = current[article_id]
            title, summary, section = kept.display_title, kept.display_summary, kept.section
        items.append(
            NewItem(
                article_id=article_id,
                section=section,
                title=title if title and title != article.title else None,
                summary=summary if summary != article.summary.strip() else None,
            )
        )
    return items
