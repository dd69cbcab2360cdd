"""The links of the emails: confirming a sign-up and unsubscribing (RFC 8058 one-click).

Opening a link changes nothing (mail services' scanners open every link): its page has a
button that posts to the same URL.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from newsletter.audience import links as subscriber_links
from newsletter.audience.addresses import mask_address
from newsletter.domain.errors import TokenError
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.audience import audience_of
from newsletter.store.subscribers import ConfirmOutcome
from newsletter.web.public import (
    FORM_TYPES,
    HTML_PAGE,
    TOKEN_PARAM,
    ErrorBody,
    Public,
    link_page,
    public_state,
)

log = logging.getLogger("newsletter.web")

router = APIRouter()


def button_options(bad_link: str, form: dict[str, Any]) -> dict[str, Any]:
    """The route options of a link's button: an HTML page (400 for a bad link, `bad_link` says
    which) for a POST whose form body, in `form`, is optional (no cookie, no token in it)."""
    return {
        "response_class": HTMLResponse,
        "responses": {
            200: {"content": HTML_PAGE},
            400: {"content": HTML_PAGE, "description": bad_link},
            413: {"model": ErrorBody, "description": "Body too large"},
        },
        "openapi_extra": {
            "requestBody": {
                "required": False,
                "content": {media: {"schema": form} for media in FORM_TYPES},
            }
        },
    }


@router.get(
    "/confirm/{token}",
    description=(
        "Link scanners of mail services open every link of an email: opening the link must "
        "not confirm. The page's button posts to the same URL."
    ),
    **link_page("A page with a button confirming the sign-up (changes nothing by itself)"),
)
def confirm_page(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    try:
        subscriber_links.check_confirm_token(audience_of(public.services), token)
    except TokenError as exc:
        return bad_link(public, request, _link_problem(exc))
    return public.page("confirm.html", title=public.t("confirm_title"), action=request.url.path)


@router.post(
    "/confirm/{token}",
    summary="Confirm a sign-up (the button of the confirmation page; no cookie needed)",
    **button_options("Bad or expired link", {"type": "object"}),
)
def confirm(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    t = public.t
    try:
        outcome = subscriber_links.confirm(audience_of(public.services), token)
    except TokenError as exc:
        return bad_link(public, request, _link_problem(exc))
    if outcome is ConfirmOutcome.REFUSED:
        return bad_link(public, request, "link_invalid")
    if outcome is ConfirmOutcome.CONFIRMED:
        public.wake_worker()
        return public.message_page(t("confirmed_title"), t("confirmed"), explore=True)
    return public.message_page(t("confirmed_title"), t("already_confirmed"), explore=True)


def _link_problem(error: TokenError) -> str:
    return "link_expired" if "expired" in str(error) else "link_invalid"


def bad_link(public: Public, request: Request, key: str) -> HTMLResponse:
    t = public.t
    return public.message_page(
        t("link_invalid_title"),
        t(key),
        status=400,
        alert=True,
        link=request.scope.get("root_path", "") + "/subscribe",
        link_text=t("resubscribe"),
    )


@router.get(
    "/unsubscribe/{token}",
    **link_page("A page with an unsubscribe button (changes nothing by itself)"),
)
def unsubscribe_page(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    t = public.t
    try:
        subscriber = subscriber_links.check_unsubscribe_token(audience_of(public.services), token)
    except TokenError:
        return bad_link(public, request, "link_invalid")
    address = mask_address(subscriber.email)
    if subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        return _unsubscribed(public, request, address)
    return public.page(
        "unsubscribe.html",
        title=t("unsubscribe_title"),
        action=request.url.path,
        address=t("masked_address", address=address),
    )


@router.post(
    "/unsubscribe/{token}",
    summary="Unsubscribe (RFC 8058 one-click: body List-Unsubscribe=One-Click, no cookie)",
    **button_options(
        "Bad link",
        {
            "type": "object",
            "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
        },
    ),
)
def unsubscribe(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    audience = audience_of(public.services)
    try:
        subscriber = subscriber_links.check_unsubscribe_token(audience, token)
        changed = subscriber_links.unsubscribe(audience, token)
    except TokenError:
        return bad_link(public, request, "link_invalid")
    if changed:
        log.info("unsubscribed through a link")
    return _unsubscribed(public, request, mask_address(subscriber.email))


def _unsubscribed(public: Public, request: Request, address: str) -> HTMLResponse:
    """The page once the address is off the list: it says which, and offers only to come back."""
    t = public.t
    return public.message_page(
        t("unsubscribed_title"),
        t("unsubscribe_done", address=address),
        link=request.scope.get("root_path", "") + "/subscribe",
        link_text=t("resubscribe"),
        explore=True,
    )
