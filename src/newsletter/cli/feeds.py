"""`newsletter collect` and `newsletter feeds`: fetch the feeds, and see how each one is doing."""

from __future__ import annotations

import click

from newsletter.cli.options import config_option, json_option, services
from newsletter.cli.output import emit, progress_bar, table


@click.command()
@config_option
@json_option
@click.option("--feed", "only", metavar="NAME", help="Fetch only this feed.")
def collect(as_json: bool, only: str | None) -> None:
    """Fetch every feed once and store the new articles.

    \b
    Example:
        newsletter collect --feed maddyness --json
    """
    from newsletter.runtime.collection import collect as run_collect

    with services() as svc, progress_bar("collecting", enabled=not as_json, transient=True) as bar:
        report = run_collect(svc, only=only, progress=bar)
    data = report.to_json()
    emit(
        as_json,
        data,
        lambda: table(
            f"{data['new_articles']} new article(s)",
            ["feed", "status", "new", "error"],
            [[f["name"], f["status"], f["new"], f["error"]] for f in data["feeds"]]
            + [[f["name"], "skipped", 0, f["reason"]] for f in data.get("skipped", [])],
        ),
    )


@click.command()
@config_option
@json_option
def feeds(as_json: bool) -> None:
    """Feed health: last fetch, status, error, consecutive failures, next try.

    \b
    Example:
        newsletter feeds --json
    """
    with services() as svc:
        states = svc.store.feeds.all()
    rows = [
        {
            "name": s.name,
            "url": s.url,
            "last_fetch": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
            "status": s.last_status,
            "error": s.last_error,
            "failures": s.consecutive_failures,
            "next_try": s.next_fetch_at.isoformat() if s.next_fetch_at else None,
            "paused": s.paused,
        }
        for s in states
    ]
    emit(
        as_json,
        {"feeds": rows},
        lambda: table(
            "feeds",
            ["name", "status", "last fetch", "failures", "next try", "error"],
            [
                [r["name"], r["status"], r["last_fetch"], r["failures"], r["next_try"], r["error"]]
                for r in rows
            ],
        ),
    )
