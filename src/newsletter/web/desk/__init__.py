"""The editors' desk: `desk_router(services)` serves it under /desk."""

from __future__ import annotations

from newsletter.web.desk.routes import desk_router

__all__ = ["desk_router"]
