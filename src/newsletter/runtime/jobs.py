"""The recurring jobs the scheduler ticks. Each is one call into the domain, logged, never raising.

The database is the source of truth: `dispatch` sends issues whose row says `scheduled` with
`send_at <= now` (or a send left unfinished), whatever the scheduler remembers.
"""

from __future__ import annotations

import logging

from newsletter.curate import issues
from newsletter.domain.errors import NewsletterError
from newsletter.runtime import curation
from newsletter.runtime.wiring import Services

log = logging.getLogger("newsletter.runtime.jobs")


def collect_feeds(services: Services) -> None:
    from newsletter.runtime.collection import collect

    try:
        report = collect(services)
    except NewsletterError as exc:
        log.error("collect failed: %s", exc)
        return
    data = report.to_json()
    log.info(
        "collected %s new article(s) from %s feed(s)", data["new_articles"], len(data["feeds"])
    )


def draft_digest(services: Services) -> None:
    try:
        outcome = curation.draft(services)
    except NewsletterError as exc:
        log.error("draft failed: %s", exc)
        return
    if outcome.issue is None:
        log.info("no digest drafted: %s", outcome.reason)
        return
    if outcome.existing:  # one draft at a time: the editors' draft stays as they left it
        log.info("no digest drafted: issue %s is already open as a draft", outcome.issue.id)
        return
    log.info("drafted issue %s with %s article(s)", outcome.issue.id, len(outcome.issue.items))
    if services.config.settings.digest.auto_send:
        issues.schedule(services.store.issues, outcome.issue.id, services.clock())
        log.info("issue %s scheduled to send now (digest.auto_send)", outcome.issue.id)


def dispatch_due(services: Services) -> None:
    from newsletter.runtime.sending import send_issue

    for issue_id in services.store.issues.due(services.clock()):
        if services.stopping.is_set():
            return
        try:
            counts = send_issue(services, issue_id)
        except NewsletterError as exc:
            log.error("sending issue %s failed: %s", issue_id, exc)
            continue
        log.info(
            "issue %s: %s sent, %s failed, %s uncertain, %s skipped of %s",
            issue_id,
            counts.sent,
            counts.failed,
            counts.uncertain,
            counts.skipped,
            counts.total,
        )


def purge_pending(services: Services) -> None:
    from newsletter.audience.erasure import purge_pending as purge
    from newsletter.runtime.audience import audience_of

    try:
        erased = purge(audience_of(services))
    except NewsletterError as exc:
        log.error("purging unconfirmed sign-ups failed: %s", exc)
        return
    if erased:
        log.info("erased %s sign-up(s) never confirmed", erased)
