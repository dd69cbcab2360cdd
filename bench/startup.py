"""Benchmark: start-up of the `newsletter` command.

Two commands, each run as a fresh process like an operator or cron runs it: `newsletter --help`
(nothing but the command tree) and `newsletter issue list` (configuration, database, a table
printed) on a migrated SQLite database. Each is started `--runs` times,
interleaved with the baselines so that a busy machine weighs on both alike; the median is
kept. The targets are read on the CPU time (user + system) of the process: what starting
costs, whatever else the machine runs (wall-clock medians are printed beside: on an idle
machine they are the same, on a machine shared by busy neighbours they are not). Baselines
in the same run: `python -c pass` (the interpreter's own start-up), `python -c "import
click"` (the command-line library every command needs) and the libraries' floor (`FLOOR`:
SQLAlchemy, pydantic, click and rich imported, nothing of ours).

Targets: `newsletter --help` under 150 ms, `newsletter issue list` under 300 ms. Exits 1 when
one is missed.

Usage: python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from targets import Targets  # noqa: E402
from tests.conftest import write_config  # noqa: E402

MAX_HELP_MS = 150
MAX_ISSUE_LIST_MS = 300
# What `issue list` cannot do without, and nothing of ours: the database layer, a settings
# model validated (pydantic builds most of itself on first use, not on import), the command
# line and the table it prints; exiting as `newsletter` does (cli/main.py: gc.freeze at exit).
FLOOR = """
import atexit, gc
atexit.register(gc.freeze)
import sqlalchemy, click, rich.console, rich.table
from typing import Annotated
from pydantic import BaseModel, ConfigDict, Field, field_validator
class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    size: Annotated[int, Field(ge=1)] = 1
    @field_validator("size")
    @classmethod
    def _checked(cls, value: int) -> int:
        return value
Section.model_validate({"size": 2})
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("newsletter")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "newsletter.cli"]
    targets = Targets()
    with tempfile.TemporaryDirectory() as folder:
        env = setup(Path(folder), command)
        load = os.getloadavg()[0]
        runs = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import click'": [sys.executable, "-c", "import click"],
            "libraries' floor": [sys.executable, "-c", FLOOR],
            "newsletter --help": [*command, "--help"],
            "newsletter issue list": [*command, "issue", "list"],
        }
        walls: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, argv in runs.items():
                wall, cpu = timed(argv, env, Path(folder))
                walls[name].append(wall)
                cpus[name].append(cpu)
    median = {name: statistics.median(values) * 1000 for name, values in cpus.items()}
    print(f"load average before the runs: {load:.1f} on {os.cpu_count()} cores")
    for name, ms in median.items():
        wall = statistics.median(walls[name]) * 1000
        print(f"{name:26} CPU median {ms:5.0f} ms   wall median {wall:5.0f} ms")
    base = median["python -c pass"]
    click_base = median["python -c 'import click'"]
    floor = median["libraries' floor"]
    for name, limit in (("newsletter --help", MAX_HELP_MS), ("newsletter issue list",
                                                             MAX_ISSUE_LIST_MS)):  # fmt: skip
        ms = median[name]
        targets.check(
            f"{name} < {limit} ms",
            f"{ms:.0f} ms ({ms / base:.1f}x python -c pass, {ms / click_base:.1f}x import click,"
            f" {ms - floor:+.0f} ms over the libraries' floor)",
            ms < limit,
        )
    return targets.exit_status()


def setup(folder: Path, command: list[str]) -> dict[str, str]:
    """A configuration and a migrated database; the environment naming it."""
    (folder / "templates").symlink_to(ROOT / "templates")
    config = write_config(folder, f"sqlite:///{folder / 'bench.db'}")
    env = {**os.environ, "NEWSLETTER_CONFIG": str(config)}
    subprocess.run([*command, "init"], env=env, cwd=folder, check=True, capture_output=True)
    return env


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


if __name__ == "__main__":
    sys.exit(main())
