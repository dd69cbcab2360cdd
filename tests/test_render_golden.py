"""Golden files: a fixed issue rendered to HTML and text, compared with tests/golden/.

Regenerate for review with `pytest tests/test_render_golden.py --regen-golden`
(or NEWSLETTER_REGEN_GOLDEN=1) and read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.domain.delivery import Placeholders
from newsletter.render.renderer import Renderer
from tests.render_support import render_config
from tests.sample_issue import sample_issue

GOLDEN = Path(__file__).resolve().parent / "golden"
# Renders draw a new nonce each time; the golden files show the placeholders without one.
PLACEHOLDERS = Placeholders("GOLDEN")


def unspelled(text: str) -> str:
    return text.replace(PLACEHOLDERS.unsubscribe_url, "%%unsubscribe_url%%").replace(
        PLACEHOLDERS.name, "%%name%%"
    )


def check_golden(name: str, actual: str, regen: bool) -> None:
    path = GOLDEN / name
    if regen:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run pytest with --regen-golden and review it")
    expected = path.read_text(encoding="utf-8")
    assert expected == actual, f"{name} changed: rerun with --regen-golden and review the diff"


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(render_config(tmp_path))


@pytest.mark.parametrize("kind", ["html", "text"])
def test_digest_matches_golden(renderer: Renderer, regen_golden: bool, kind: str) -> None:
    """The digest of the fixed issue n°42 renders exactly as committed."""
    rendered = renderer.render_issue(sample_issue(5), PLACEHOLDERS)
    check_golden(
        f"digest.{'html' if kind == 'html' else 'txt'}",
        unspelled(rendered.html if kind == "html" else rendered.text),
        regen_golden,
    )


@pytest.mark.parametrize("name", ["confirm", "welcome", "test"])
def test_transactional_emails_match_golden(
    renderer: Renderer, regen_golden: bool, name: str
) -> None:
    """Each transactional email renders exactly as committed, subject included."""
    rendered = renderer.render_email(
        name, {"confirm_url": "https://news.example.org/confirm/TOKEN"}, PLACEHOLDERS
    )
    header = f"Subject: {rendered.subject}\nPreheader: {rendered.preheader}\n\n"
    check_golden(f"{name}.html", unspelled(header + rendered.html), regen_golden)
    check_golden(f"{name}.txt", unspelled(header + rendered.text), regen_golden)
