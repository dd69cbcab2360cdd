"""Running the service: `newsletter init`, `doctor` and `run`."""

from __future__ import annotations

import click

from newsletter.cli.options import config_option, load_config, services
from newsletter.cli.output import table
from newsletter.domain.errors import ConfigError


@click.command()
@config_option
def init() -> None:
    """Create or migrate the database (safe to run again).

    \b
    Example:
        newsletter init && newsletter doctor
    """
    from newsletter.store.engine import display_url

    with services(migrate=True) as svc:
        svc.store.feeds.sync(svc.config.feed_sources())
        click.echo(f"database ready: {display_url(svc.config.database_url)}")


@click.command()
@config_option
def doctor() -> None:
    """Check config, database, migrations, templates and provider; non-zero on failure.

    \b
    Example:
        newsletter doctor || echo "fix the failed checks first"
    """
    from newsletter.runtime.doctor import run_checks

    try:
        config = load_config()
    except ConfigError as exc:
        table("doctor", ["check", "status", "detail"], [["config", "FAIL", str(exc)]])
        raise SystemExit(2) from None
    results = run_checks(config)
    table(
        "doctor",
        ["check", "status", "detail"],
        [[r.name, "ok" if r.ok else "FAIL", r.detail] for r in results],
    )
    if not all(r.ok for r in results):
        raise SystemExit(1)


@click.command()
@config_option
@click.option("--log-json", is_flag=True, help="Log one JSON object per line.")
def run(log_json: bool) -> None:
    """Run the web app and the scheduler in one process (the main job).

    \b
    Example:
        newsletter run --log-json
    """
    from newsletter.runtime.process import run_forever

    run_forever(load_config(), log_json=log_json)
