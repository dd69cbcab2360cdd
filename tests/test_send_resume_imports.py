"""Resuming a send reuses the render frozen when it started: the process that resumes never
builds the renderer, so premailer, lxml and jinja2 (a sixth of its memory) are never loaded."""

from __future__ import annotations

import email
import email.policy
import json
import subprocess
import sys
from pathlib import Path

from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from tests.conftest import write_config
from tests.delivery_helpers import ROOT, add_subscribers, fake_render, make_issue

RENDERING = ["premailer", "lxml", "jinja2", "cssutils", "newsletter.render.renderer"]
# Runs the command, then prints the modules it loaded as JSON on stderr.
PROBE = (
    "import atexit, json, sys; "
    "atexit.register(lambda: sys.stderr.write('\\n' + json.dumps(sorted(sys.modules)))); "
    "sys.argv = ['newsletter', *sys.argv[1:]]; from newsletter.cli import main; main()"
)


def test_resuming_a_send_does_not_load_the_renderer(tmp_path: Path) -> None:
    """An issue started (audience and render frozen) and resumed by `issue send`: every reader
    gets the frozen email, and no rendering library is imported."""
    (tmp_path / "templates").symlink_to(ROOT / "templates")
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'send.db'}")
    environ = {"NEWSLETTER_SECRET_KEY": "test-secret"}
    services = wiring.build(config_module.load(path, environ))
    services.store.migrate()
    issue_id = make_issue(services)
    add_subscribers(services, 3)
    issue = services.store.issues.get(issue_id)
    assert issue is not None
    assert services.store.deliveries.start(issue_id, services.clock())
    services.store.issues.freeze_render(issue_id, fake_render(issue))
    services.close()

    command = ["--config", str(path), "issue", "send", str(issue_id), "--yes", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, "PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == 3
    loaded = json.loads(done.stderr.rsplit("\n", 1)[-1])
    assert "newsletter.deliver.send" in loaded  # it did send
    assert [name for name in RENDERING if name in loaded] == []
    outbox = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert len(outbox) == 3
    first = email.message_from_bytes(outbox[0].read_bytes(), policy=email.policy.default)
    assert str(first["Subject"]).startswith("Les licornes françaises")  # the frozen render
