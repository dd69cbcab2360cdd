"""The file outbox under SIGKILL: a real `newsletter issue send` is killed while it writes a
batch's files. The next run settles that batch by the files there (sent) and writes the others
(pending), so every reader has exactly one file and nothing is left `uncertain`.
Runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from newsletter.domain.delivery import DeliveryState
from newsletter.domain.model import IssueState
from tests.delivery_helpers import write_email_config
from tests.integration.crash_helpers import kill, ledger, run, start_send, started_issue, wait_for

pytestmark = pytest.mark.integration

SUBSCRIBERS = 3000  # one batch: long enough to be killed halfway through


def _copies(outbox: Path) -> list[str]:
    try:
        return [name for name in os.listdir(outbox) if name.endswith(".eml")]
    except FileNotFoundError:
        return []


def test_kill_mid_batch_is_settled_by_the_files(database_url: str, tmp_path: Path) -> None:
    email = f'\n[email]\nprovider = "file"\nbatch_size = {SUBSCRIBERS}\n'
    config_path = write_email_config(tmp_path, database_url, email)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    outbox = tmp_path / "outbox"
    process = start_send(env, issue_id)
    try:
        begun = wait_for(lambda: len(_copies(outbox)) >= 100, process, 60)
    finally:
        kill(process)
    assert begun, "the batch was written whole before the kill"
    written = len(_copies(outbox))
    states = Counter(ledger(config, issue_id).values())
    assert states == {DeliveryState.SENDING: SUBSCRIBERS}, "the batch was not in flight"
    assert 100 <= written < SUBSCRIBERS

    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (final["state"], final["sent"], final["uncertain"]) == (IssueState.SENT, SUBSCRIBERS, 0)
    per_copy = Counter(re.findall(r"-d(\d+)-", name)[0] for name in _copies(outbox))
    assert len(per_copy) == SUBSCRIBERS and set(per_copy.values()) == {1}
