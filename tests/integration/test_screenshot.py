"""Screenshots of the digest in headless Chromium at 600px and 375px, written under
tests/artifacts/ (git-ignored) for review. Skips cleanly without Chromium or Playwright."""

from __future__ import annotations

import http.server
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from newsletter.domain.delivery import Recipient
from newsletter.domain.errors import RenderError
from newsletter.render.personalise import personalise
from newsletter.render.renderer import Renderer
from newsletter.render.screenshot import (
    find_chromium,
    output_paths,
    request_policy,
    screenshot_html,
)
from tests.render_support import render_config
from tests.sample_issue import sample_issue

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.integration


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture
def chromium() -> Path:
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    try:
        return find_chromium()
    except RenderError as exc:
        pytest.skip(str(exc))


def test_digest_screenshots_at_600_and_375(chromium: Path, tmp_path: Path) -> None:
    """Two full-page PNGs, as wide as the viewport, the phone one taller (stacked cards)."""
    rendered = Renderer(render_config(tmp_path)).render_issue(sample_issue(5))
    reader = Recipient(1, 1, "lecteur@example.org", "Lecteur", "https://news.example.org/u/t")
    copy = personalise(rendered, reader)
    paths = screenshot_html(copy.html, ARTIFACTS / "digest.png")
    assert paths == [ARTIFACTS / "digest-600.png", ARTIFACTS / "digest-375.png"]
    (desktop_w, desktop_h), (phone_w, phone_h) = (png_size(p) for p in paths)
    assert (desktop_w, phone_w) == (600, 375)
    assert phone_h > desktop_h > 1500


def test_transactional_screenshots(chromium: Path, tmp_path: Path) -> None:
    """The confirmation, welcome and test emails render too (phone width)."""
    renderer = Renderer(render_config(tmp_path))
    for name in ("confirm", "welcome", "test"):
        message = renderer.render_email(name, {"confirm_url": "https://news.example.org/c/t"})
        [path] = screenshot_html(message.html, ARTIFACTS / f"{name}.png", widths=(375,))
        assert png_size(path)[0] == 375


def test_page_cannot_reach_the_network(chromium: Path, tmp_path: Path) -> None:
    """A stylesheet on a remote host is refused; the screenshot is still written."""
    html = (
        '<html><head><link rel="stylesheet" href="https://fonts.example.org/x.css"></head>'
        '<body><img src="https://img.example.org/a.jpg" alt="a" width="100" height="50">'
        "<p>hors ligne</p></body></html>"
    )
    [path] = screenshot_html(html, tmp_path / "offline.png", widths=(375,))
    assert path.exists() and png_size(path)[0] == 375


def test_feed_urls_cannot_reach_this_machine(chromium: Path, tmp_path: Path) -> None:
    """An image, stylesheet or iframe URL pointing at a service on loopback (what a hostile
    feed would write) gets no request from the preview browser."""
    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        html = (
            f'<html><head><link rel="stylesheet" href="{base}/admin.css"></head><body>'
            f'<img src="{base}/flushall" alt="" width="100" height="50">'
            f'<iframe src="{base}/frame"></iframe><p>piège</p></body></html>'
        )
        [path] = screenshot_html(html, tmp_path / "local.png", widths=(375,))
    finally:
        server.shutdown()
        server.server_close()
    assert path.exists()
    assert requests == []


@pytest.mark.parametrize(
    ("url", "kind", "expected"),
    [
        ("http://127.0.0.1:8000/a.css", "stylesheet", "abort"),
        ("http://localhost/img.png", "image", "placeholder"),
        ("http://[::1]:6379/", "image", "placeholder"),
        ("data:image/png;base64,AAAA", "image", "continue"),
        ("https://img.example.org/a.jpg", "image", "placeholder"),
        ("https://fonts.example.org/x.css", "stylesheet", "abort"),
        ("https://tracker.example.org/pixel", "fetch", "abort"),
    ],
)
def test_request_policy(url: str, kind: str, expected: str) -> None:
    """Inline data loads; images become placeholders; the rest is refused, loopback included."""
    assert request_policy(url, kind) == expected


def test_missing_chromium_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a browser the error says what to install, in one line."""
    monkeypatch.setenv("NEWSLETTER_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(RenderError) as caught:
        screenshot_html("<p>x</p>", Path("unused.png"))
    assert "apt-get install chromium" in str(caught.value) and "\n" not in str(caught.value)


def test_output_paths_add_the_width() -> None:
    """preview.png becomes preview-600.png and preview-375.png; no suffix means .png."""
    assert output_paths(Path("out/preview.png")) == [
        Path("out/preview-600.png"),
        Path("out/preview-375.png"),
    ]
    assert output_paths(Path("shot"), (375,)) == [Path("shot-375.png")]


def test_artifacts_are_git_ignored() -> None:
    """tests/artifacts/ is listed in .gitignore so screenshots never get committed."""
    gitignore = Path(__file__).resolve().parents[2] / ".gitignore"
    assert "/tests/artifacts/" in gitignore.read_text(encoding="utf-8").splitlines()


def test_cli_preview_writes_both_screenshots(chromium: Path, services: Any) -> None:
    """`issue preview ID --screenshot FILE.png` writes FILE-600.png and FILE-375.png."""
    from click.testing import CliRunner

    from newsletter.cli import cli
    from tests.test_render_cli import make_issue

    issue_id = make_issue(services, 4, 30)
    shot = services.config.root / "preview.png"
    page = services.config.root / "preview.html"
    args = ["issue", "preview", str(issue_id), "--out", str(page), "--screenshot", str(shot)]
    result = CliRunner().invoke(cli, [*args, "--config", str(services.config.path)])
    assert result.exit_code == 0, result.output
    assert png_size(shot.with_name("preview-600.png"))[0] == 600
    assert png_size(shot.with_name("preview-375.png"))[0] == 375
    assert "screenshot:" in result.stderr
