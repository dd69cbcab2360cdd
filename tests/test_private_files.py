"""Files holding personal data or secrets are created readable by their owner only (0600, in
folders created 0700), whatever the umask: the SQLite database with its -wal and -shm, the .eml
outbox, the generated secret key and CSV exports."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.deliver.base import Sender
from newsletter.deliver.file import FileProvider
from newsletter.domain.delivery import Recipient, RenderedMessage
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import wiring
from newsletter.runtime.config import Config
from newsletter.store import Store

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o277], ids=["umask000", "umask022", "umask277"])
def umask(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """The process umask for one test: permissive, usual, and one that would even take the
    owner's own write access away. (tmp_path is made before, under the usual umask.)"""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_sqlite_database_and_its_wal_files_are_private(umask: int, tmp_path: Path) -> None:
    """A new database (and SQLite's -wal and -shm beside it) is 0600, its new folders 0700."""
    path = tmp_path / "data" / "deep" / "newsletter.db"
    store = Store.from_url(f"sqlite:///{path}")
    try:
        store.migrate()
        store.subscribers.add("a@example.org", None, SubscriberStatus.ACTIVE, NOW)
        files = [path, path.with_name("newsletter.db-wal"), path.with_name("newsletter.db-shm")]
        assert all(file.exists() for file in files)
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        store.close()
    assert (mode(tmp_path / "data"), mode(tmp_path / "data" / "deep")) == (0o700, 0o700)


def test_outbox_messages_are_private(umask: int, tmp_path: Path) -> None:
    """Each .eml file (an address, personal links) is 0600 in an outbox folder made 0700."""
    outbox = tmp_path / "mail" / "outbox"
    provider = FileProvider(Sender("news@example.org", "News", "https://x.example"), outbox)
    message = RenderedMessage(subject="S", preheader="", html="<p>x</p>", text="x", issue_id=1)
    recipient = Recipient(1, 1, "a@example.org", "Ada", "https://x.example/unsubscribe/t")
    other = Recipient(2, 2, "b@example.org", None, "https://x.example/unsubscribe/u")
    provider.send_batch(message, [recipient, other])

    written = sorted(outbox.iterdir())
    assert [file.suffix for file in written] == [".eml", ".eml"]
    assert [mode(file) for file in written] == [0o600, 0o600]
    assert (mode(tmp_path / "mail"), mode(outbox)) == (0o700, 0o700)


def test_generated_secret_key_is_private(
    umask: int, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    """Without NEWSLETTER_SECRET_KEY the key generated into subscribers/ is 0600 (folder 0700)."""
    config = make_config(environ={"NEWSLETTER_SECRET_KEY": ""})
    key = wiring.secret_key(config)

    path = config.data_dir / "secret_key"
    assert path.read_text().strip() == key
    assert (mode(path), mode(config.data_dir)) == (0o600, 0o700)
    assert wiring.secret_key(config) == key  # read back, not generated again


def test_csv_exports_are_private(
    umask: int, make_config: Callable[..., Config], tmp_path: Path
) -> None:
    """`subscribers export --out` writes 0600 files, even over a file that was world-readable."""
    os.umask(0o022)  # init and add as usual; the exports below run under the test's umask
    config = make_config()
    runner = CliRunner()
    base = ["--config", str(config.path)]
    assert runner.invoke(cli, [*base, "init"]).exit_code == 0
    added = runner.invoke(cli, [*base, "subscribers", "add", "a@example.org", "--confirmed"])
    assert added.exit_code == 0, added.output
    existing = tmp_path / "existing.csv"
    existing.write_text("old")
    existing.chmod(0o644)
    os.umask(umask)

    fresh = tmp_path / "exports" / "list.csv"
    one = tmp_path / "reader.csv"
    for args in (["--out", str(fresh)], ["--out", str(existing)],
                 ["--email", "a@example.org", "--out", str(one)]):  # fmt: skip
        result = runner.invoke(cli, [*base, "subscribers", "export", *args])
        assert result.exit_code == 0, result.output

    assert [mode(fresh), mode(existing), mode(one)] == [0o600, 0o600, 0o600]
    assert mode(fresh.parent) == 0o700
    assert "a@example.org" in existing.read_text() and "old" not in existing.read_text()
