"""The whole weekly digest end to end, through the real command line, on the shipped defaults."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, shared_path, write_config

pytestmark = pytest.mark.integration


def newsletter(
    config: Path, *args: str, check: bool = True, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NEWSLETTER_SECRET_KEY": "e2e"}
    env.pop("NEWSLETTER_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "newsletter.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Path:
    """A deployment folder: the shipped templates and sample feed, plus the seed article."""
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    feeds = f"""
[[feeds]]
name = "sample"
url = "{ROOT / "samples" / "maddynews-sample.xml"}"
section = "À la une"
"""
    seed = ROOT.parent / "shared" / "corpus" / "seed" / "maddyness-fundtruck.xml"
    if seed.exists():
        feeds += f'\n[[feeds]]\nname = "maddyness"\nurl = "{seed}"\nsection = "Écosystème"\n'
    return write_config(tmp_path, database_url, feeds=feeds)


def read_outbox(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def test_digest_end_to_end(project: Path) -> None:
    """init, collect, draft, add a subscriber, send: one complete .eml per active subscriber."""
    newsletter(project, "init")
    collected = json.loads(newsletter(project, "collect", "--json").stdout)
    assert collected["new_articles"] >= 5
    assert {f["status"] for f in collected["feeds"]} == {"ok"}

    drafted = json.loads(newsletter(project, "issue", "draft", "--json").stdout)
    assert drafted["id"] == 1
    assert drafted["articles"] >= 5
    assert drafted["reason"] is None

    newsletter(project, "subscribers", "add", "a@example.org", "--confirmed")
    newsletter(project, "subscribers", "add", "zoe@example.org", "--name", "Zoé", "--confirmed")
    newsletter(project, "subscribers", "add", "pending@example.org")
    sent = json.loads(newsletter(project, "issue", "send", "1", "--yes", "--json").stdout)
    ledger = {key: sent[key] for key in list(sent)[:8]}
    assert ledger == {
        "id": 1,
        "state": "sent",
        "total": 2,
        "pending": 0,
        "sent": 2,
        "failed": 0,
        "uncertain": 0,
        "skipped": 0,
    }
    assert (sent["clicks"], sent["opens"], sent["events"]) == (0, 0, False)

    messages = read_outbox(project.parent / "outbox")
    assert sorted(str(m["To"]) for m in messages) == ["Zoé <zoe@example.org>", "a@example.org"]
    for message in messages:
        assert message["List-Unsubscribe"].startswith("<https://news.example.org/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"] and message["Date"]
        html_part = message.get_body(("html",))
        text_part = message.get_body(("plain",))
        assert html_part is not None and text_part is not None
        html = html_part.get_content()
        text = text_part.get_content()
        assert 'style="' in html  # CSS inlined
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe in html.replace("&amp;", "&")
        assert unsubscribe in text
        assert "%%" not in html + text

    status = json.loads(newsletter(project, "issue", "status", "1", "--json").stdout)
    assert status["sent"] == 2 and status["state"] == "sent"

    again = json.loads(newsletter(project, "issue", "send", "1", "--yes", "--json").stdout)
    assert again["sent"] == 2
    assert len(read_outbox(project.parent / "outbox")) == 2


def test_seed_article_rendered_clean(project: Path) -> None:
    """The seed article keeps its French text; its tracking pixel and promo stay out."""
    shared_path("corpus", "seed", "maddyness-fundtruck.xml")
    newsletter(project, "init")
    newsletter(project, "collect")
    newsletter(project, "issue", "draft")
    html = newsletter(project, "issue", "preview", "1").stdout
    text = newsletter(project, "issue", "preview", "1", "--text").stdout
    assert "L’écosystème tech des Hauts-de-France croit en sa bonne étoile" in html
    assert "Dunkerque, puis Lille" in text
    assert "pixel.gif" not in html
    assert "JE M'INSCRIS" not in html and "JE M’INSCRIS" not in html
    assert "utm_source=rss" not in html
    assert "Temps de lecture" not in html + text


@pytest.fixture
def running(project: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    with project.open("a") as handle:
        handle.write(f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NEWSLETTER_SECRET_KEY": "e2e"}
    env.pop("NEWSLETTER_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "newsletter.cli", "--config", str(project), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_run_serves_healthz_and_collects_at_start(
    project: Path, running: tuple[subprocess.Popen[str], int]
) -> None:
    """`newsletter run` migrates, serves /healthz, collects at start-up, stops on SIGTERM."""
    process, port = running
    deadline = time.monotonic() + 60
    answer = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.2)
    assert answer is not None, "the web app never answered"
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}

    while time.monotonic() < deadline:
        listed = newsletter(project, "feeds", "--json")
        feeds = json.loads(listed.stdout)["feeds"]
        if feeds and all(f["status"] for f in feeds):
            break
        time.sleep(0.5)
    assert {f["status"] for f in feeds} == {"ok"}

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
