"""Two `newsletter run` processes on one PostgreSQL database: one scheduler at a time.

Both serve the web app; only the leader runs the jobs (its collect at start-up is the only one).
When the leader is killed with SIGKILL, the other process takes the scheduler over within a few
seconds and runs the jobs from then on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port, write_config

pytestmark = pytest.mark.integration

LEADS = "this process now runs the scheduler"
COLLECTED = "collected "
TAKEOVER_SECONDS = 20  # the followers retry every 5 s; generous for a loaded machine


class Runner:
    def __init__(self, folder: Path, database_url: str, name: str) -> None:
        self.port = free_port()
        folder.mkdir()
        feeds = f'[[feeds]]\nname = "sample"\nurl = "{ROOT / "samples" / "maddynews-sample.xml"}"\n'
        extra = f'\n[web]\nhost = "127.0.0.1"\nport = {self.port}\n'
        config = write_config(folder, database_url, extra=extra, feeds=feeds)
        self.log = folder / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NEWSLETTER_SECRET_KEY": "lead"}
        env.pop("NEWSLETTER_DATABASE_URL", None)
        with self.log.open("w") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsletter.cli", "--config", str(config), "run"],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait(condition: object, seconds: float) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


@pytest.fixture
def runners(postgres_url: str, tmp_path: Path) -> Iterator[list[Runner]]:
    started: list[Runner] = []

    def start(name: str) -> Runner:
        runner = Runner(tmp_path / name, postgres_url, name)
        started.append(runner)
        return runner

    first = start("first")
    assert _wait(first.healthy, 60), first.output()
    assert _wait(lambda: LEADS in first.output(), 30), first.output()
    start("second")
    yield started
    for runner in started:
        runner.stop()


def test_one_scheduler_and_takeover_after_sigkill(runners: list[Runner]) -> None:
    """Only the leader collects; SIGKILL it and the follower leads and collects."""
    first, second = runners
    assert _wait(second.healthy, 60), second.output()
    assert _wait(lambda: COLLECTED in first.output(), 60), first.output()
    time.sleep(6)  # longer than a follower's retry: it must still be following
    assert LEADS not in second.output()
    assert COLLECTED not in second.output()

    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    killed_at = time.monotonic()
    assert _wait(lambda: LEADS in second.output(), TAKEOVER_SECONDS), second.output()
    took_over = time.monotonic() - killed_at
    assert _wait(lambda: COLLECTED in second.output(), 60), second.output()
    assert second.healthy()
    print(f"takeover after {took_over:.1f} s")
