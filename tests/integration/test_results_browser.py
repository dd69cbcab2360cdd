"""The desk's results pages in Chromium, at desktop and phone widths, for the test artefacts:
the page HTML comes from the real app (logged-in client), Chromium lays it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.runtime.wiring import Services
from tests.desk_support import client_for, logged_in
from tests.readers_support import copy_links, readers, sent_issue

pytestmark = pytest.mark.integration
__all__ = ["readers"]

# How far the page's main content reaches past the viewport (the desk's header is not ours).
OVERFLOW = (
    "(() => { const m = document.querySelector('main'); return m.scrollWidth - m.clientWidth; })()"
)


def test_results_pages_lay_out_at_1280_and_375(
    readers: Services, tmp_path: Path, browser: Any
) -> None:
    """Both pages' content fits 375 px (wide tables scroll in their card); screenshots are
    saved."""
    sent_issue(readers, 3)
    second = sent_issue(readers, 0)
    public = client_for(readers)
    for link in copy_links(readers, "r0@example.org")[:1]:
        public.get(link.removeprefix("https://news.example.org"))
    client, _ = logged_in(readers)
    pages = {
        "issue": client.get(f"/desk/issues/{second}/results").text,
        "across": client.get("/desk/results").text,
    }
    for name, html in pages.items():
        for width in (1280, 375):
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(html)
            page.screenshot(path=str(tmp_path / f"results-{name}-{width}.png"), full_page=True)
            overflow = page.evaluate(OVERFLOW)
            if width == 375:
                assert overflow <= 0, (name, overflow)
            page.close()
    print(f"screenshots: {tmp_path}")
