"""Readers' links: the preferences page and the click redirect.

`/preferences/{token}` takes the reader's unsubscribe token (no cookie needed: the token is the
proof); `/c/{token}` counts a click and answers 302 to the article, or a 400 page for a bad
token, never a redirect anywhere else.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsletter.audience import preferences as reader_preferences
from newsletter.deliver.clicks import ClickLinks, follow
from newsletter.domain.errors import TokenError
from newsletter.domain.links import article_url
from newsletter.runtime.audience import audience_of
from newsletter.web.links import bad_link, button_options
from newsletter.web.public import HTML_PAGE, TOKEN_PARAM, Public, link_page, public_state

log = logging.getLogger("newsletter.web")

router = APIRouter()


def _page(
    public: Public, request: Request, prefs: reader_preferences.Preferences, token: str, saved: bool
) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return public.page(
        "preferences.html",
        title=public.t("preferences_title"),
        action=request.url.path,
        unsubscribe_action=f"{root}/unsubscribe/{token}",
        sections=prefs.sections,
        prefs=prefs,
        saved=saved,
    )


@router.get(
    "/preferences/{token}",
    **link_page("The reader's sections as checkboxes, and the unsubscribe button"),
)
def preferences_page(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    try:
        prefs = reader_preferences.preferences(audience_of(public.services), token)
    except TokenError:
        return bad_link(public, request, "link_invalid")
    return _page(public, request, prefs, token, saved=False)


@router.post(
    "/preferences/{token}",
    summary="Save the reader's sections (form field `sections`, repeated; no cookie needed)",
    **button_options(
        "Bad link",
        {
            "type": "object",
            "properties": {"sections": {"type": "array", "items": {"type": "string"}}},
        },
    ),
)
async def save_preferences(request: Request, token: str = TOKEN_PARAM) -> HTMLResponse:
    public = public_state(request)
    body = (await request.body()).decode("utf-8", errors="replace")
    chosen = parse_qs(body, max_num_fields=200).get("sections", [])
    try:
        prefs = reader_preferences.choose(audience_of(public.services), token, chosen)
    except TokenError:
        return bad_link(public, request, "link_invalid")
    log.info("preferences saved through a link")
    return _page(public, request, prefs, token, saved=True)


@router.get(
    "/c/{token}",
    summary="Click redirect: 302 to the article of the link (counted); bad token: 400 page",
    response_class=Response,
    responses={
        302: {"description": "To the article"},
        400: {"content": HTML_PAGE, "description": "Bad link"},
    },
)
def click(request: Request, token: str = TOKEN_PARAM) -> Response:
    public = public_state(request)
    services = public.services
    settings = services.config.settings

    def utm(url: str, number: int) -> str | None:
        return article_url(url, number, settings.newsletter.name, settings)

    links = ClickLinks(
        clicks=services.store.clicks,
        signer=lambda: services.signer,
        clock=services.clock,
        article_url=utm,
    )
    try:
        target = follow(links, token)
    except TokenError:
        return bad_link(public, request, "link_invalid")
    return RedirectResponse(target, status_code=302)
