"""Path parameters shared by routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from newsletter.model import MAX_ROW_ID

# Ids are 32-bit integers in the database: larger numbers are a 422, not a server error.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
