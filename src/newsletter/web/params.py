"""Parameters shared by routes, and what their text may hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from newsletter.domain.model import MAX_ROW_ID

# Ids are 32-bit integers in the database: larger numbers are a 422, not a server error.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Text to search for: accents and case do not matter; control characters are dropped.
SearchText = Annotated[str, Query(max_length=200, description="text to search for")]


def is_control(ch: str) -> bool:
    """A C0 or C1 control character (NUL included, which PostgreSQL text cannot hold).
    Unicode spaces such as the no-break spaces of French typography are not."""
    return ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0
