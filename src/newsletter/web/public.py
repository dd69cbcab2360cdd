"""The public sign-up, and what the public endpoints share (`Public`, kept in `app.state`).

The emails' links are in `links.py`, the provider's webhook in `webhooks.py`. Pages are Jinja2
templates of `web/templates/` in the newsletter's language. Every refusal is
a 4xx with a readable message: JSON `{"detail": ...}` for API clients, the page again for a
browser posting the form.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment
from pydantic import BaseModel

from newsletter.audience import addresses, subscribers
from newsletter.audience.dependencies import Audience
from newsletter.audience.outbox import OutboxWorker
from newsletter.curate.states import is_published
from newsletter.domain import untrusted_json
from newsletter.domain.errors import InvalidAddress
from newsletter.domain.model import Issue
from newsletter.runtime.audience import audience_of, signup_rules
from newsletter.runtime.wiring import Services
from newsletter.store.subscribers import SignupOutcome
from newsletter.web.messages import Messages
from newsletter.web.params import from_browser, is_control
from newsletter.web.ratelimit import TokenBuckets
from newsletter.web.signups import WAIT_SECONDS, SignupQueue

log = logging.getLogger("newsletter.web")

HONEYPOT = "website"
WEBHOOK_MAX_BYTES = 5_000_000
MAX_CONSENT_VERSION = 100
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{1,100}$"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class SignupAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class ErrorBody(BaseModel):
    detail: str


@dataclass
class Public:
    """What the public routes share: built once per app by `create_app`."""

    services: Services
    pages: Environment
    t: Messages
    per_ip: TokenBuckets
    per_address: TokenBuckets
    worker: OutboxWorker | None
    consent_version: str
    consent_text: str  # the consent text the form shows (what consent_version names)
    sections: tuple[str, ...]  # the sections readers may choose (the form's boxes), in order
    signups: SignupQueue  # answered, stored after the answer

    @classmethod
    def build(cls, services: Services, pages: Environment, worker: OutboxWorker | None) -> Public:
        settings = services.config.settings
        rules = settings.subscribe
        messages = Messages(settings.newsletter.language, settings.newsletter.name)
        consent = messages("consent")
        if settings.links.track_clicks:
            consent = f"{consent} {messages('consent_clicks')}"
        return cls(
            services=services,
            pages=pages,
            t=messages,
            per_ip=TokenBuckets(rules.ip_per_minute / 60.0, rules.ip_burst),
            per_address=TokenBuckets(rules.address_per_hour / 3600.0, rules.address_burst),
            worker=worker,
            consent_version=subscribers.consent_version(messages.lang, consent),
            consent_text=consent,
            sections=signup_rules(services.config).sections,
            signups=SignupQueue(lambda: audience_of(services), worker.wake if worker else None),
        )

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.pages.get_template(template).render(
            lang=self.t.lang,
            newsletter=self.services.config.settings.newsletter.name,
            t=self.t,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def message_page(
        self,
        title: str,
        body: str,
        status: int = 200,
        alert: bool = False,
        link: str | None = None,
        explore: bool = False,
        **extra: Any,
    ) -> HTMLResponse:
        """A page saying one thing; `explore` adds where to go next: the archive and the
        latest issue."""
        sent = sent_issues(self.services) if explore else []
        return self.page(
            "message.html",
            status,
            title=title,
            body=body,
            alert=alert,
            link=link,
            explore=explore,
            latest=sent[0] if sent else None,
            **extra,
        )

    def wake_worker(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    def close(self) -> None:
        """Store the sign-ups already answered."""
        self.signups.close()


def sent_issues(services: Services, text: str | None = None) -> list[Issue]:
    """The issues the public may read, newest first; with `text`, those that mention it."""
    found = [issue for issue, _ in services.store.issues.all(text) if is_published(issue.state)]
    return sorted(found, key=lambda i: (i.sent_at or i.created_at, i.id), reverse=True)


def limit_for(max_body_bytes: int) -> Any:
    def limit(path: str) -> int:
        return WEBHOOK_MAX_BYTES if path.startswith("/webhooks/") else max_body_bytes

    return limit


def public_state(request: Request) -> Public:
    public: Public = request.app.state.public
    return public


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Unreadable body or honeypot filled"},
    413: {"model": ErrorBody, "description": "Body larger than `web.max_body_bytes`"},
    415: {"model": ErrorBody, "description": "Neither JSON nor a form"},
    422: {"model": ErrorBody, "description": "Missing or invalid address or name"},
    429: {
        "model": ErrorBody,
        "description": "Too many sign-ups from this client or for this address",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
    503: {
        "model": ErrorBody,
        "description": f"No room in the queue of sign-ups to store for {WAIT_SECONDS:g} s; "
        "nothing was done",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}
HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
_SIGNUP_SCHEMA = {
    "type": "object",
    "required": ["email"],
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 320},
        "name": {"type": "string", "maxLength": 200},
        HONEYPOT: {"type": "string", "maxLength": 0, "description": "must stay empty"},
        "consent_version": {
            "type": "string",
            "maxLength": MAX_CONSENT_VERSION,
            "description": "the version of the consent text your own form showed",
        },
        "sections": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the sections wanted (the form's boxes, a field repeated in a form): "
            "unknown names are ignored; none or all of them, or no field: every section",
        },
    },
}
TOKEN_PARAM = PathParam(
    description="The signed token from the email's link",
    json_schema_extra={"pattern": TOKEN_PATTERN},
)

router = APIRouter()


@router.get(
    "/subscribe",
    response_class=HTMLResponse,
    summary="The sign-up form (embeddable in an iframe)",
    responses={200: {"content": HTML_PAGE}},
)
def subscribe_form(request: Request) -> HTMLResponse:
    return _form(public_state(request), request)


def _form(
    public: Public,
    request: Request,
    status: int = 200,
    error: str | None = None,
    ticked: list[str] | None = None,
    **values: str,
) -> HTMLResponse:
    """The form; `ticked`: the boxes the reader ticked (None: every box, as at first)."""
    return public.page(
        "subscribe.html",
        status,
        title=public.t("subscribe_title"),
        consent=public.consent_text,
        action=request.scope.get("root_path", "") + "/subscribe",
        error=error,
        email=values.get("email", ""),
        name=values.get("name", ""),
        sections=public.sections,
        ticked=ticked,
    )


@router.post(
    "/subscribe",
    status_code=202,
    summary="Sign up (double opt-in): the same 202 whether the address is new or known",
    response_model=SignupAccepted,
    responses={202: {"content": HTML_PAGE}, **_ERRORS},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _SIGNUP_SCHEMA},
                "application/x-www-form-urlencoded": {"schema": _SIGNUP_SCHEMA},
                "multipart/form-data": {"schema": _SIGNUP_SCHEMA},
            },
        }
    },
)
async def subscribe(request: Request) -> Response:
    public = public_state(request)
    t = public.t
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = content_type in FORM_TYPES
    browser = is_form and from_browser(request)
    fields: dict[str, str] = {}
    ticked: list[str] | None = None  # the sections asked for; None: the request names none

    def refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
        if browser:
            page = _form(public, request, status, detail, ticked, **fields)
            page.headers.update(headers or {})
            return page
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)

    wait = public.per_ip.take(client_ip(request))
    if wait:
        return _too_many(refuse, t, wait)
    raw = await _read_fields(request, content_type)
    if isinstance(raw, tuple):
        return refuse(*raw)
    for key in ("email", "name", HONEYPOT, "consent_version"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            return refuse(422, t("bad_field", field=key))
        if value is not None:
            fields[key] = value
    ticked = raw.get("sections")
    if not isinstance(ticked, list | None) or any(not isinstance(s, str) for s in ticked or ()):
        return refuse(422, t("bad_sections"))
    if not _short_text(fields.get("consent_version", ""), MAX_CONSENT_VERSION):
        return refuse(422, t("bad_consent_version", limit=MAX_CONSENT_VERSION))
    if fields.get(HONEYPOT):
        log.info("sign-up refused: honeypot filled (client %s)", client_ip(request))
        return refuse(400, t("honeypot"))
    email = fields.get("email", "")
    if not email.strip():
        return refuse(422, t("missing_email"))
    try:
        address = addresses.normalise_address(email)
        addresses.check_policy(signup_rules(public.services.config).policy, address)
    except InvalidAddress as exc:
        return refuse(422, t(f"address_{exc.code}"))
    try:
        addresses.clean_name(fields.get("name"), strict=True)
    except InvalidAddress as exc:
        return refuse(422, t(f"address_{exc.code}"))
    wait = public.per_address.take(address)
    if wait:
        return _too_many(refuse, t, wait)
    origin = request.headers.get("origin")
    source = ("web-form" if is_form else "web-json") + (f" {origin}" if origin else "")
    version = fields.get("consent_version") or public.consent_version
    consent = subscribers.Consent(ip=client_ip(request), source=source, text=version)

    # Answer first, store after: whether the address is new, pending or active, the answer
    # has the same content and leaves at the same point, before any database work.
    def sign_up(audience: Audience) -> SignupOutcome:
        name = fields.get("name")
        return subscribers.request_subscription(audience, address, name, consent, ticked)

    if not await public.signups.put(sign_up):
        return refuse(503, t("busy"), {"Retry-After": "30"})
    accepted = t("accepted")
    if browser:
        return public.message_page(t("accepted_title"), accepted, status=202, explore=True)
    return JSONResponse({"status": "accepted", "detail": accepted}, status_code=202)


async def _read_fields(request: Request, content_type: str) -> dict[str, Any] | tuple[int, str]:
    """The body's fields, or (status, message) saying why they cannot be read."""
    t = public_state(request).t
    if content_type == "application/json":
        body = await request.body()
        try:
            data = untrusted_json.parse(body)
        except untrusted_json.UnreadableJson as exc:
            return 400, t("bad_json", reason=str(exc))
        if not isinstance(data, dict):
            return 400, t("not_an_object")
        return data
    if content_type in FORM_TYPES:
        # A field per box the form offers, beyond the few of the address and the consent.
        limit = 20 + len(public_state(request).sections)
        try:
            form = await request.form(max_files=0, max_fields=limit)
        except Exception:  # python-multipart raises several types for malformed bodies
            return 400, t("bad_form")
        ticked = {"sections": form.getlist("sections")} if "sections" in form else {}
        return {**form, **ticked}  # every ticked box, not only the last
    return 415, t("unsupported_type")


def _short_text(text: str, limit: int) -> bool:
    """At most `limit` characters, no control character."""
    return len(text) <= limit and not any(is_control(ch) for ch in text)


def _too_many(refuse: Any, t: Messages, wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    response: Response = refuse(
        429, t("rate_limited", seconds=seconds), {"Retry-After": str(seconds)}
    )
    return response


def link_page(summary: str) -> dict[str, Any]:
    """The route options of a page a link in an email opens: the page, or a 400 page for a bad
    token."""
    return {
        "response_class": HTMLResponse,
        "summary": summary,
        "responses": {
            200: {"content": HTML_PAGE},
            400: {"content": HTML_PAGE, "description": "Bad link"},
        },
    }
