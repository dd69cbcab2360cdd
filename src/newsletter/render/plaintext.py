"""The plain-text part: lines wrapped at 72 columns, URLs never broken, blank runs collapsed."""

from __future__ import annotations

import re
import textwrap

WIDTH = 72
_BULLET = re.compile(r"^(\s*)(- |\* |> |\d+[.)] |\[\d+\] )?")
_BLANK_RUN = re.compile(r"\n{3,}")


def wrap(text: str, width: int = WIDTH) -> str:
    """Each line longer than `width` refilled at spaces; its indent or bullet hangs.

    Words longer than the width (URLs) stay whole on their own line rather than being cut.
    """
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if len(line) <= width:
            lines.append(line)
            continue
        match = _BULLET.match(line)
        lead = match.group(0) if match else ""
        hanging = " " * len(lead)
        lines.extend(
            textwrap.wrap(
                line[len(lead) :],
                width=width,
                initial_indent=lead,
                subsequent_indent=hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"
