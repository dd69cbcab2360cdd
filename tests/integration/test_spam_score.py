"""Every kind of email scores 0.0 with SpamAssassin's shipped rules (local tests only, no
network): the digest, its test copy, the confirmation, the welcome and the delivery check.

Each message is built through the code that sends it (collection of the bundled sample feed
and the seed article, the send loop, `issue test`, the outbox worker) and written by the file
provider; the .eml bytes it wrote are what SpamAssassin reads, all in one run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.audience import links as subscriber_links
from newsletter.audience import subscribers
from newsletter.domain.clock import FrozenClock
from newsletter.domain.tokens import CONFIRM as CONFIRM_PURPOSE
from newsletter.render.renderer import Renderer
from newsletter.runtime import config as config_module
from newsletter.runtime import curation, wiring
from newsletter.runtime.audience import audience_of, outbox_mailer
from newsletter.runtime.collection import collect
from newsletter.runtime.sending import send_issue
from tests.conftest import ROOT, SHARED, write_config

pytestmark = pytest.mark.integration

KINDS = ("digest", "test-copy", "confirm", "welcome", "delivery-check")
# SpamAssassin's informational rules (HTML_MESSAGE, NO_RELAYS, ...) score ±0.001 and show as 0.0.
INFORMATIONAL = 0.01
# One header per message with the total and every rule hit with its score.
REPORT_HEADER = "X-Spam-Looks"
_REPORT = re.compile(rf"^{REPORT_HEADER}: (.*(?:\n[ \t].*)*)", re.MULTILINE)


@dataclass(frozen=True)
class Verdict:
    score: float
    rules: dict[str, float]

    def __str__(self) -> str:
        hits = ", ".join(f"{rule}={score:g}" for rule, score in self.rules.items()) or "none"
        return f"score {self.score:g}; rules: {hits}"


def spamassassin_command() -> str:
    found = shutil.which("spamassassin")
    if found is None:
        pytest.skip(
            "spamassassin is not installed: `apt-get install spamassassin` "
            "(./scripts/test installs it when run as root)"
        )
    return found


def parse_reports(stdout: str) -> list[Verdict]:
    """The REPORT_HEADER of each message SpamAssassin printed, in order."""
    verdicts = []
    for folded in _REPORT.findall(stdout):
        score, _, tests = " ".join(folded.split()).partition(" ")
        rules: dict[str, float] = {}
        for hit in tests.replace(" ", "").split(","):
            if "=" in hit:
                name, value = hit.split("=", 1)
                rules[name] = float(value)
        verdicts.append(Verdict(float(score), rules))
    return verdicts


def check_spam(command: str, paths: list[Path], home: Path) -> list[Verdict]:
    """One SpamAssassin run over all `paths`: local tests, no Bayes, a throwaway home."""
    result = subprocess.run(
        [
            command,
            "--local",
            "--nocreate-prefs",
            "--cf=use_bayes 0",
            f"--cf=add_header all {REPORT_HEADER[len('X-Spam-') :]} _SCORE_ _TESTSSCORES(,)_",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    verdicts = parse_reports(result.stdout)
    assert len(verdicts) == len(paths), result.stdout[:2000] + result.stderr[-2000:]
    return verdicts


class Outbox:
    """The file provider's folder: which .eml files each step added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: set[Path] = set()

    def written(self) -> list[Path]:
        now = set(self.folder.glob("*.eml")) if self.folder.exists() else set()
        added, self.seen = sorted(now - self.seen), now
        return added


def build_every_kind(folder: Path) -> dict[str, Path]:
    """One .eml per kind of email, each sent the way the application sends it."""
    (folder / "templates").symlink_to(ROOT / "templates")
    feeds = f"""
[[feeds]]
name = "MaddyNews"
url = "{ROOT / "samples" / "maddynews-sample.xml"}"
section = "À la une"
"""
    seed = SHARED / "corpus" / "seed" / "maddyness-fundtruck.xml"
    if seed.exists():  # the real article the project was specified from, when ../shared is here
        feeds += f'\n[[feeds]]\nname = "Maddyness"\nurl = "{seed}"\nsection = "Écosystème"\n'
    path = write_config(folder, f"sqlite:///{folder / 'newsletter.db'}", feeds=feeds)
    config = config_module.load(path, {"NEWSLETTER_SECRET_KEY": "spam-score"})
    clock = FrozenClock(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    services = wiring.build(config, clock=clock)  # the configured provider: file
    services.store.migrate()
    outbox = Outbox(config.root / "outbox")
    written: dict[str, list[Path]] = {}
    try:
        assert collect(services).new_articles >= 5
        drafted = curation.draft(services).issue
        assert drafted is not None

        subscribers.add(
            audience_of(services), "camille.martin@example.org", "Camille", confirmed=True
        )
        send_issue(services, drafted.id)
        written["digest"] = outbox.written()

        curation.send_test(services, drafted.id, "redaction@example.org")
        written["test-copy"] = outbox.written()

        consent = subscribers.Consent(ip="192.0.2.10", source="web-form", text="fr:test")
        subscribers.request_subscription(
            audience_of(services), "zoe.durand@example.org", "Zoé", consent
        )
        mailer = outbox_mailer(services)
        mailer.flush()
        written["confirm"] = outbox.written()

        pending = services.store.subscribers.by_email("zoe.durand@example.org")
        assert pending is not None
        token = services.signer.sign(CONFIRM_PURPOSE, pending.id, clock())
        subscriber_links.confirm(audience_of(services), token)
        mailer.flush()
        written["welcome"] = outbox.written()

        check = Renderer(config).render_email("test", {})
        reader = curation.test_recipient(services, "admin@example.org")
        services.provider.send_batch(check, [reader])
        written["delivery-check"] = outbox.written()
    finally:
        services.close()
    assert {kind: len(paths) for kind, paths in written.items()} == dict.fromkeys(KINDS, 1)
    return {kind: paths[0] for kind, paths in written.items()}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Verdict]]:
    command = spamassassin_command()
    folder = tmp_path_factory.mktemp("spam")
    emails = build_every_kind(folder)
    home = folder / "home"
    home.mkdir()
    results = check_spam(command, [emails[kind] for kind in KINDS], home)
    yield dict(zip(KINDS, results, strict=True))


@pytest.mark.parametrize("kind", KINDS)
def test_email_scores_zero_with_spamassassin(verdicts: dict[str, Verdict], kind: str) -> None:
    """The total is 0.0 and no rule scores above the informational ±0.001 (so no hit is
    hidden by a negative rule)."""
    verdict = verdicts[kind]
    scoring = {rule: score for rule, score in verdict.rules.items() if score > INFORMATIONAL}
    assert verdict.score <= 0.0 and not scoring, f"{kind}: {verdict}"


def test_low_contrast_text_is_caught(tmp_path: Path) -> None:
    """The check can fail: text coloured like its background (the old preheader) scores."""
    command = spamassassin_command()
    message = tmp_path / "low-contrast.eml"
    message.write_bytes(
        b"From: MaddyNews <newsletter@example.org>\r\nTo: a@example.org\r\n"
        b"Subject: Bonjour\r\nMessage-ID: <1@example.org>\r\n"
        b"Date: Mon, 23 Nov 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\n\r\n"
        b'<html><body><div style="background-color:#f2f3f5">'
        b'<div style="color:#f2f3f5">Un texte cach\xc3\xa9 par sa couleur.</div>'
        b"<p>Bonjour, voici les nouvelles de la semaine.</p></div></body></html>\r\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    [verdict] = check_spam(command, [message], home)
    assert "HTML_FONT_LOW_CONTRAST" in verdict.rules and verdict.score > 0, str(verdict)
