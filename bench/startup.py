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
SQLAlchemy, click and rich imported, nothing of ours).

Targets: `newsletter --help` under 150 ms, `newsletter issue list` under 300 ms. Exits 1 when
one is missed.

Shared machines drift (the same run of `import click` took 32 to 75 ms on different days), so
`--instructions` also counts, once each, the instructions every command executes (valgrind's
callgrind, when installed): a figure no neighbour moves, to compare with the floor's.

Usage: python bench/startup.py [--runs 15] [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
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
# What `issue list` cannot do without, and nothing of ours: the database layer, the command line
# and the table it prints; exiting as `newsletter` does (cli/main.py: gc.freeze at exit). The
# settings are checked without pydantic (domain/checked.py), so pydantic is not in it.
FLOOR = """
import atexit, gc
atexit.register(gc.freeze)
import sqlalchemy, click, rich.console, rich.table
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
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
        counted = (
            {name: instructions(argv, env, Path(folder)) for name, argv in runs.items()}
            if args.instructions
            else {}
        )
    median = {name: statistics.median(values) * 1000 for name, values in cpus.items()}
    print(f"load average before the runs: {load:.1f} on {os.cpu_count()} cores")
    for name, ms in median.items():
        wall = statistics.median(walls[name]) * 1000
        print(f"{name:26} CPU median {ms:5.0f} ms   wall median {wall:5.0f} ms")
    for name, count in counted.items():
        ratio = count / counted["libraries' floor"]
        print(f"{name:26} {count / 1e6:6.0f} M instructions ({ratio:.2f}x the libraries' floor)")
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
    # The package as installed: byte-compiled, as pip does for a regular install and the README's
    # commands do for the editable one (Python would otherwise compile it on every start).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    (folder / "templates").symlink_to(ROOT / "templates")
    config = write_config(folder, f"sqlite:///{folder / 'bench.db'}")
    env = {**os.environ, "NEWSLETTER_CONFIG": str(config)}
    subprocess.run([*command, "init"], env=env, cwd=folder, check=True, capture_output=True)
    return env


def instructions(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Instructions one run of `argv` executes, counted by valgrind (callgrind)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    tool = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    done = subprocess.run(
        [*tool, *argv],
        env={**env, "PYTHONHASHSEED": "0"},
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return float(re.findall(r"Collected : (\d+)", done.stderr)[-1])


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
