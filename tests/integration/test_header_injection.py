"""Header injection through readers' names, performed through the real entry points: a sign-up
over HTTP (the outbox worker writes the confirmation .eml) and a CSV import followed by a digest
send. The raw bytes written are parsed: one To, nothing injected, the two parts only."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.deliver import sender_of
from newsletter.deliver.file import FileProvider
from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import make_issue
from tests.mail_checks import (
    ATTACK_NAMES,
    PRODUCTION_BASE_URL,
    UNSUBSCRIBE_MAILTO,
    assert_one_safe_copy,
    assert_plain_list_headers,
    assert_safe_display_name,
    production_like,
)

from .conftest import LiveServer

pytestmark = pytest.mark.integration


def _files(outbox: Path, count: int, timeout: float = 10.0) -> list[Path]:
    """The .eml files of the outbox once there are `count` of them (the worker is async)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{count} .eml file(s) expected in {outbox}")


@pytest.mark.parametrize("name", ATTACK_NAMES.values(), ids=ATTACK_NAMES.keys())
def test_sign_up_name_cannot_inject_headers_into_the_confirmation(
    live_server: Callable[..., LiveServer], tmp_path: Path, name: str
) -> None:
    """POST /subscribe with a hostile name: the confirmation .eml the outbox worker writes has
    one To (the address signed up), no Bcc or Reply-To, a text and an HTML part only."""
    live = live_server(render_email=None)  # the real templates
    outbox = tmp_path / "sent"
    live.services._provider = FileProvider(sender=sender_of(live.services.config), outbox=outbox)

    answer = live.client().post("/subscribe", json={"email": "eve@example.org", "name": name})

    assert answer.status_code == 202
    (path,) = _files(outbox, 1)
    raw = path.read_bytes()
    message = assert_one_safe_copy(raw)
    (to,) = message["To"].addresses
    assert to.addr_spec == "eve@example.org"
    assert_safe_display_name(to.display_name)
    assert message["Subject"] == "Confirmez votre inscription à MaddyNews"
    assert_plain_list_headers(raw)
    stored = live.services.store.subscribers.by_email("eve@example.org")
    assert stored is not None and stored.name is not None
    assert_safe_display_name(stored.name)  # normalised where it entered


def test_csv_import_names_cannot_inject_headers_into_the_digest(
    services: Services, tmp_path: Path
) -> None:
    """Names imported from a CSV reach every digest copy as one safe display name, and each
    copy carries its reader's list headers as plain ASCII."""
    services.config = production_like(services.config)
    outbox = tmp_path / "sent"
    services._provider = FileProvider(sender=sender_of(services.config), outbox=outbox)
    table = tmp_path / "readers.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        for n, name in enumerate(ATTACK_NAMES.values()):
            writer.writerow([f"r{n}@example.org", name])
    imported = CliRunner().invoke(
        cli, ["subscribers", "import", str(table), "--config", str(services.config.path)]
    )
    assert imported.exit_code == 0, imported.output
    active = list(services.store.subscribers.iter(SubscriberStatus.ACTIVE))
    assert len(active) == len(ATTACK_NAMES)
    issue_id = make_issue(services)

    counts = send_issue(services, issue_id, sleep=lambda _s: None)

    assert (counts.state, counts.sent, counts.failed) == (IssueState.SENT, len(ATTACK_NAMES), 0)
    files = _files(outbox, len(ATTACK_NAMES))
    readers = []
    for path in files:
        raw = path.read_bytes()
        message = assert_one_safe_copy(raw)
        (to,) = message["To"].addresses
        readers.append(to.addr_spec)
        assert_safe_display_name(to.display_name)
        values = assert_plain_list_headers(raw)
        link, mailto = values["List-Unsubscribe"].split(", ")
        assert link.startswith(f"<{PRODUCTION_BASE_URL}/unsubscribe/")
        token = link[1:-1].rpartition("/")[2]
        assert mailto == f"<mailto:{UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{token}>"
    assert sorted(readers) == [f"r{n}@example.org" for n in range(len(ATTACK_NAMES))]
