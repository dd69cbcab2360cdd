"""The email provider's signed event webhook."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from newsletter.deliver import events as provider_events
from newsletter.deliver.clicks import with_article
from newsletter.web.public import ErrorBody, client_ip, public_state

log = logging.getLogger("newsletter.web")


class WebhookResult(BaseModel):
    applied: int
    duplicates: int


router = APIRouter()


@router.post(
    "/webhooks/sendgrid",
    summary="SendGrid's signed event webhook",
    response_model=WebhookResult,
    responses={
        400: {"model": ErrorBody, "description": "Signed, but not a JSON list of events"},
        403: {"model": ErrorBody, "description": "Bad or missing signature, stale timestamp"},
        413: {"model": ErrorBody, "description": "Body too large"},
    },
    openapi_extra={
        "parameters": [
            {
                "name": provider_events.SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
            {
                "name": provider_events.TIMESTAMP_HEADER,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
            },
        },
    },
)
async def sendgrid_webhook(request: Request) -> JSONResponse:
    public = public_state(request)
    services = public.services
    body = await request.body()
    key = services.config.secrets.sendgrid_webhook_public_key
    try:
        provider_events.verify(
            key,
            body,
            request.headers.get(provider_events.SIGNATURE_HEADER),
            request.headers.get(provider_events.TIMESTAMP_HEADER),
            services.clock(),
        )
        events = provider_events.read_events(body)
    except provider_events.WebhookRefused as exc:
        if key:
            log.warning("SendGrid webhook refused from %s: %s", client_ip(request), exc)
        else:
            log.error("SendGrid webhook refused: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=403)
    except provider_events.BadPayload as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    base_url = services.config.settings.newsletter.base_url
    if any(event.kind == "click" for event in events):
        events = [with_article(event, services.signer, base_url) for event in events]
    report = await run_in_threadpool(
        provider_events.apply_events, services.store.events, services.clock, events
    )
    return JSONResponse(report.to_json())
