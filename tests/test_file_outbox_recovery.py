"""The file outbox after a kill: a copy went if its file is there, so what a dead sender left in
flight is settled by looking, sent or pending again, never `uncertain` nor written twice."""

from __future__ import annotations

import re
import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsletter.deliver import sender_of
from newsletter.deliver.file import FileProvider
from newsletter.deliver.send import CLAIM_LEASE
from newsletter.domain.clock import FrozenClock
from newsletter.domain.model import IssueState
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.delivery_helpers import add_subscribers, dead_pid, fake_render, make_issue

COPIES = 7


class Killed(BaseException):
    """Stands for the process being SIGKILLed at that moment."""


@dataclass
class DyingOutbox(FileProvider):
    """The file outbox of a process killed after writing `writes_left` files."""

    writes_left: int = 0

    def _write(self, stem: str, data: bytes) -> Path:
        if self.writes_left == 0:
            raise Killed()
        path = super()._write(stem, data)
        self.writes_left -= 1
        if self.writes_left == 0:  # the file is in place, the ledger not yet told
            raise Killed()
        return path


def _outbox(services: Services, tmp_path: Path, writes_left: int | None = None) -> FileProvider:
    sender, folder = sender_of(services.config), tmp_path / "outbox"
    if writes_left is None:
        return FileProvider(sender=sender, outbox=folder, batch_size=100)
    return DyingOutbox(sender=sender, outbox=folder, batch_size=100, writes_left=writes_left)


def _files_per_copy(tmp_path: Path) -> Counter[int]:
    names = [path.name for path in (tmp_path / "outbox").iterdir()]
    assert not [name for name in names if not name.endswith(".eml")], "a temporary file is left"
    return Counter(int(re.findall(r"-d(\d+)-", name)[0]) for name in names)


def _killed_send(services: Services, tmp_path: Path, worker: str, written: int) -> int:
    """An issue to COPIES readers whose send was killed after `written` files."""
    issue_id = make_issue(services)
    add_subscribers(services, COPIES)
    services._provider = _outbox(services, tmp_path, writes_left=written)
    with pytest.raises(Killed):
        send_issue(services, issue_id, render=fake_render, worker=worker)
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.sending, counts.sent) == (COPIES, 0), "the batch was not in flight whole"
    assert sum(_files_per_copy(tmp_path).values()) == written
    return issue_id


@pytest.mark.parametrize("written", [0, 3, COPIES])
def test_a_dead_senders_batch_is_settled_by_its_files(
    services: Services, tmp_path: Path, written: int
) -> None:
    """Killed after some files of its batch: the next run counts those sent, writes the others,
    and leaves nobody uncertain and nobody with two files."""
    dead = f"{socket.gethostname()[:40]}:{dead_pid()}:x"
    issue_id = _killed_send(services, tmp_path, dead, written)
    services._provider = _outbox(services, tmp_path)
    counts = send_issue(services, issue_id, render=fake_render)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, COPIES, 0)
    files = _files_per_copy(tmp_path)
    assert len(files) == COPIES and set(files.values()) == {1}


def test_a_sender_merely_late_is_not_settled(services: Services, tmp_path: Path) -> None:
    """A sender not known dead, whose lease ran out, may still be writing: its batch is left
    uncertain as before, not settled by the files there so far."""
    alive = f"{socket.gethostname()[:40]}:1:x"  # pid 1 runs
    issue_id = _killed_send(services, tmp_path, alive, 3)
    services._provider = _outbox(services, tmp_path)
    assert isinstance(services.clock, FrozenClock)
    services.clock.advance(seconds=CLAIM_LEASE.total_seconds() + 60)
    counts = send_issue(services, issue_id, render=fake_render)
    assert (counts.sent, counts.uncertain) == (0, COPIES)
    assert sum(_files_per_copy(tmp_path).values()) == 3


def test_delivered_reads_only_whole_copies_of_the_issue(services: Services, tmp_path: Path) -> None:
    """Temporary files, other issues' copies and other names do not count."""
    outbox = _outbox(services, tmp_path)
    assert outbox.delivered(5, [1, 2]) == set()  # no folder yet
    folder = tmp_path / "outbox"
    folder.mkdir()
    for name in (
        "issue5-d1-20261128T101010000001.eml",
        "issue5-d2-20261128T101010000001-1.eml",  # a second name for the same stem
        ".issue5-d3-20261128T101010000001.ab12cd34.tmp",
        "issue6-d4-20261128T101010000001.eml",
        "issue5-d5-notes.txt",
    ):
        (folder / name).write_bytes(b"x")
    assert outbox.delivered(5, [1, 2, 3, 4, 5]) == {1, 2}
    assert outbox.delivered(5, [2]) == {2}


def test_settling_moves_only_rows_still_the_dead_senders(services: Services) -> None:
    """Two runs settle the same dead sender's batch: the first settles and claims the rest
    again; the second, late, with what it found before, must not take those rows back."""
    store, clock = services.store, services.clock
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    store.deliveries.start(issue_id, clock())
    dead = f"{socket.gethostname()[:40]}:{dead_pid()}:x"
    first, second, third, fourth = (
        r.id for r in store.deliveries.claim(issue_id, 10, dead, clock())
    )
    assert store.deliveries.in_flight_of(issue_id, [dead]) == [first, second, third, fourth]
    store.deliveries.settle(issue_id, [dead], {first}, clock())  # the first run
    again = store.deliveries.claim(issue_id, 10, "first-run", clock())
    assert {row.id for row in again} == {second, third, fourth}
    store.deliveries.settle(issue_id, [dead], {second}, clock())  # the late one
    counts = store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.sent, counts.sending, counts.pending) == (1, 3, 0)
    assert store.deliveries.in_flight_of(issue_id, [dead]) == []
