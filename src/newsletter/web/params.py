"""Parameters shared by routes, what their text may hold, and whether a browser asks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from newsletter.domain.model import MAX_ROW_ID

# Ids are 32-bit integers in the database: larger numbers are a 422, not a server error.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Text to search for: accents and case do not matter; control characters are dropped.
SearchText = Annotated[str, Query(max_length=200, description="text to search for")]


def is_control(ch: str) -> bool:
    """A C0 or C1 control character (NUL included, which PostgreSQL text cannot hold).
    Unicode spaces such as the no-break spaces of French typography are not."""
    return ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0


def from_browser(request: Request) -> bool:
    """A browser loading a page or posting a form (its Accept names text/html), not a script's
    fetch (*/* by default, or JSON): the browser gets a page, the script JSON."""
    return "text/html" in request.headers.get("accept", "")
