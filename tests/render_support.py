"""Helpers for rendering tests: a configuration without a database, HTML inspection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import html as lxml_html

from newsletter.runtime import config as config_module

ROOT = Path(__file__).resolve().parent.parent

BASE_SETTINGS: dict[str, Any] = {
    "newsletter": {
        "name": "MaddyNews",
        "base_url": "https://news.example.org",
        "timezone": "Europe/Paris",
        "language": "fr",
        "postal_address": "MaddyNews, 10 rue de l’Exemple, 75002 Paris",
    },
    "sender": {"email": "newsletter@example.org", "name": "MaddyNews"},
    "links": {"utm_source": "maddynews", "utm_campaign": "maddynews-{number}"},
}


def render_config(folder: Path, **sections: dict[str, Any]) -> config_module.Config:
    """A Config in `folder` using the project's templates; `sections` override BASE_SETTINGS."""
    templates = folder / "templates"
    if not templates.exists():
        templates.symlink_to(ROOT / "templates")
    raw = {key: dict(value) for key, value in BASE_SETTINGS.items()}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return config_module.from_mapping(raw, folder / "config.toml", {})


def parse(html: str) -> Any:
    return lxml_html.document_fromstring(html)


def inline_styles(root: Any) -> list[str]:
    return [element.get("style") for element in root.iter() if element.get("style")]
