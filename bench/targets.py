"""The verdicts of a benchmark: each target printed as met or MISSED, and the exit status.

Every benchmark states its targets as constants at its top, checks each through one `Targets`
and returns `targets.exit_status()` from `main`: 1 as soon as one target was missed, so a
benchmark run in a script or CI fails instead of printing a figure nobody reads.
"""

from __future__ import annotations


class Targets:
    def __init__(self) -> None:
        self.missed: list[str] = []

    def check(self, description: str, measured: str, met: bool) -> bool:
        """Print `target <description>: <measured> met|MISSED`; remember a miss."""
        print(f"target {description}: {measured}  {'met' if met else 'MISSED'}")
        if not met:
            self.missed.append(description)
        return met

    def exit_status(self) -> int:
        if self.missed:
            print(f"{len(self.missed)} target(s) MISSED: {'; '.join(self.missed)}")
            return 1
        print("all targets met")
        return 0
