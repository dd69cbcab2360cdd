"""Screenshots of an email in headless Chromium (Debian's /usr/bin/chromium via Playwright),
at desktop (600px) and phone (375px) widths, for review before sending.

The page gets no network at all, loopback included: an image URL comes from a feed, and a
preview must not let it reach a service on this machine or a tracker. Images are replaced by a
neutral placeholder of the size the markup gives them, so the layout shows.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from newsletter.domain.errors import RenderError

WIDTHS = (600, 375)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# No size and no viewBox of its own: the placeholder takes the box the markup gives the image
# (width and height attributes), so a preview shows the ratio the email declares.
_PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg">'
    b'<rect width="100%" height="100%" fill="#d9dde3"/>'
    b'<svg width="100%" height="100%" viewBox="0 0 600 315">'
    b'<path d="M220 215l60-70 45 50 30-30 65 50z" fill="#b3bac4"/>'
    b'<circle cx="380" cy="120" r="22" fill="#b3bac4"/></svg></svg>'
)


def find_chromium(environ: dict[str, str] | None = None) -> Path:
    """`$NEWSLETTER_CHROMIUM`, else Debian's chromium; RenderError when there is none."""
    env = os.environ if environ is None else environ
    chosen = env.get("NEWSLETTER_CHROMIUM")
    for candidate in [chosen] if chosen else CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return Path(found)
    raise RenderError(
        f"headless Chromium not found ({chosen or '/usr/bin/chromium'}): install it with "
        "`apt-get install chromium` or set NEWSLETTER_CHROMIUM to its path"
    )


def output_paths(out: Path, widths: Sequence[int] = WIDTHS) -> list[Path]:
    """`digest.png` -> `digest-600.png`, `digest-375.png`."""
    suffix = out.suffix or ".png"
    return [out.with_name(f"{out.stem}-{width}{suffix}") for width in widths]


def screenshot_html(html: str, out: Path, widths: Sequence[int] = WIDTHS) -> list[Path]:
    """Full-page PNGs of `html` at each width; returns the files written."""
    executable = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RenderError("screenshots need Playwright: pip install playwright") from None
    paths = output_paths(out, widths)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(executable), args=LAUNCH_ARGS, headless=True
            )
            try:
                for width, path in zip(widths, paths, strict=True):
                    _shoot(browser, html, width, path)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RenderError(f"headless Chromium failed: {first_line}") from None
    return paths


def _shoot(browser: Any, html: str, width: int, path: Path) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        device_scale_factor=1,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        page.route("**/*", _offline)
        page.set_content(html, wait_until="load", timeout=30_000)
        page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()


def request_policy(url: str, resource_type: str) -> str:
    """What the page may load: `continue` (inline data only), `placeholder` (any image fetched
    over the network), or `abort` (anything else)."""
    if urlsplit(url).scheme in ("data", "about", "blob"):
        return "continue"
    if resource_type == "image":
        return "placeholder"
    return "abort"


def _offline(route: Any) -> None:
    decision = request_policy(route.request.url, route.request.resource_type)
    if decision == "continue":
        route.continue_()
    elif decision == "placeholder":
        route.fulfill(status=200, content_type="image/svg+xml", body=_PLACEHOLDER_SVG)
    else:
        route.abort()
