"""Helpers of the delivery tests: an issue with subscribers, a render without templates."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from newsletter.domain.delivery import Placeholders, RenderedMessage
from newsletter.domain.model import ArticleDraft, FeedSource, Issue
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.wiring import Services
from newsletter.store import reader_tables
from newsletter.store.issues import NewItem

ROOT = Path(__file__).resolve().parent.parent

SUBJECT = "Les licornes françaises à l'honneur, {name} !"


def fake_render(issue: Issue) -> RenderedMessage:
    """What the renderer produces, reduced to what delivery needs: placeholders in both parts."""
    spelled = Placeholders.fresh()
    name, unsubscribe = spelled.name, spelled.unsubscribe_url
    return RenderedMessage(
        subject=SUBJECT.format(name=name),
        preheader="Levées de fonds de la semaine",
        html=(
            f'<html><body><p style="color:#222">Bonjour {name}, voici l\'édition '
            f"{issue.number}.</p>"
            f'<p><a href="{unsubscribe}">Se désinscrire</a></p></body></html>'
        ),
        text=f"Bonjour {name}, voici l'édition {issue.number}.\n\nSe désinscrire : {unsubscribe}\n",
        placeholders=spelled,
    )


def make_issue(services: Services) -> int:
    """A draft issue holding one article."""
    store = services.store
    now = services.clock()
    store.feeds.sync([FeedSource("f", "https://example.org/feed")])
    draft = ArticleDraft(
        feed_name="f",
        guid="g1",
        url="https://example.org/1",
        title="Levée de fonds",
        summary="résumé",
        content_html="<p>x</p>",
        image_url=None,
        author=None,
        published_at=None,
    )
    store.articles.add(store.feeds.id_of("f"), [draft], now)
    article = store.articles.recent()[0]
    return store.issues.create("N°{number}", [NewItem(article.id)], now).id


def add_subscribers(
    services: Services, count: int, names: Sequence[str | None] = (), start: int = 0
) -> list[int]:
    """`count` active subscribers u{i}@example.org; returns their ids."""
    ids = []
    for i in range(start, start + count):
        name = names[i - start] if i - start < len(names) else f"Zoé {i}"
        subscriber, _ = services.store.subscribers.add(
            f"u{i}@example.org", name, SubscriberStatus.ACTIVE, services.clock()
        )
        ids.append(subscriber.id)
    return ids


def with_provider(config: Any, kind: str, **sendgrid: Any) -> Any:
    """The same configuration with `email.provider = kind` (and [email.sendgrid] overrides)."""
    email = config.settings.email
    section = email.sendgrid._replace(**sendgrid)
    email = email._replace(provider=kind, sendgrid=section)
    settings = config.settings._replace(email=email)
    return replace(config, **{"settings": settings})


def bulk_subscribers(services: Services, count: int, start: int = 0) -> None:
    """Insert many active subscribers in one statement (executemany)."""
    now = services.clock()
    rows = [
        {
            "email": f"u{i}@example.org",
            "name": f"Zoé {i}",
            "status": SubscriberStatus.ACTIVE.value,
            "created_at": now,
            "confirmed_at": now,
        }
        for i in range(start, start + count)
    ]
    with services.store.engine.begin() as connection:
        connection.execute(reader_tables.subscribers.insert(), rows)


def write_sendgrid_config(folder: Path, database_url: str, host: str, batch_size: int) -> Path:
    """A deployment folder sending through the SendGrid provider at `host` (a local server)."""
    return write_email_config(
        folder,
        database_url,
        f"""
[email]
provider = "sendgrid"

[email.sendgrid]
host = "{host}"
batch_size = {batch_size}
timeout_seconds = 30
""",
    )


def write_smtp_config(
    folder: Path, database_url: str, port: int, batch_size: int, connections: int = 1
) -> Path:
    """A deployment folder relaying through the SMTP server on loopback at `port`, over
    `connections` parallel connections."""
    return write_email_config(
        folder,
        database_url,
        f"""
[email]
provider = "smtp"
batch_size = {batch_size}

[email.smtp]
host = "127.0.0.1"
port = {port}
timeout_seconds = 30
connections = {connections}
""",
    )


def write_email_config(folder: Path, database_url: str, email: str, extra: str = "") -> Path:
    """A deployment folder's config.toml with this `[email]` part (and `extra` sections)."""
    templates = folder / "templates"
    if not templates.exists():
        templates.symlink_to(ROOT / "templates")
    path = folder / "config.toml"
    path.write_text(
        f"""
[newsletter]
name = "MaddyNews"
base_url = "https://news.example.org"

[sender]
email = "newsletter@example.org"
name = "MaddyNews"

[database]
url = "{database_url}"
{email}{extra}""",
        encoding="utf-8",
    )
    return path


def sender_processes(config_path: Path, issue_id: int, count: int) -> list[subprocess.Popen[str]]:
    """`count` concurrent `newsletter issue send ID --yes --json` processes."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "NEWSLETTER_CONFIG": str(config_path),
        "SENDGRID_API_KEY": "SG.test-key",
        "NEWSLETTER_SECRET_KEY": "concurrent",
    }
    env.pop("NEWSLETTER_DATABASE_URL", None)
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsletter.cli",
                "issue",
                "send",
                str(issue_id),
                "--yes",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def dead_pid() -> int:
    """The id of a process that has just exited (a killed sender stands for it)."""
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(finished.stdout)
