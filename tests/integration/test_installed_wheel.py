"""A regular (non-editable) install works in a fresh folder with no templates of its own: the
default email templates ship inside the wheel.

The wheel is built from this tree and installed without dependencies into a fresh virtual
environment; the dependencies come from the test run's own environment as a plain path entry
(no registry), after the installed package, which must be the one imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SHIPPED = {"base.html", "macros.html", "email.css", "email-clients.css"} | {
    f"{name}.{kind}"
    for name in ("digest", "confirm", "welcome", "test")
    for kind in ("html", "txt")
}

CONFIG = """
[newsletter]
name = "MaddyNews"
base_url = "http://localhost:8000"
timezone = "Europe/Paris"
language = "fr"
postal_address = "MaddyNews, 10 rue de l'Exemple, 75002 Paris"

[sender]
email = "newsletter@example.org"
name = "MaddyNews"

[database]
url = "sqlite:///newsletter.db"

[[feeds]]
name = "sample"
url = "sample.xml"
section = "À la une"

[collect]
enrich = false

[digest]
min_articles = 1

[email]
provider = "file"
"""


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_wheel_ships_the_email_templates_and_a_fresh_folder_previews(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NEWSLETTER_DATABASE_URL")
    }
    env["NEWSLETTER_SECRET_KEY"] = "wheel-test"
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # From a clean copy: a build/ folder left in the tree would hide a missing package-data entry.
    source = tmp_path / "source"
    leftovers = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, symlinks=True, ignore=leftovers)
    run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], tmp_path, env)
    (wheel,) = wheels.glob("newsletter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = {
            Path(name).name
            for name in archive.namelist()
            if name.startswith("newsletter/render/templates/")
        }
    assert packaged >= SHIPPED

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], tmp_path, env)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    fresh_site = Path(run([str(python), "-c", purelib], tmp_path, env).strip())
    # The dependencies, from this environment: a path line (its own .pth files, such as the
    # editable install's, are not processed), placed after the installed package.
    (fresh_site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
    (folder / "sample.xml").write_bytes((ROOT / "samples" / "maddynews-sample.xml").read_bytes())
    imported = run(
        [str(python), "-c", "import newsletter; print(newsletter.__file__)"], folder, env
    )
    assert Path(imported.strip()).is_relative_to(fresh_site)

    newsletter = [str(venv / "bin" / "newsletter"), "--config", str(folder / "config.toml")]
    run([*newsletter, "init"], folder, env)
    collected = json.loads(run([*newsletter, "collect", "--json"], folder, env))
    assert collected["new_articles"] > 0, collected
    drafted = json.loads(run([*newsletter, "issue", "draft", "--json"], folder, env))
    assert drafted["id"] is not None, drafted
    html = run([*newsletter, "issue", "preview", str(drafted["id"])], folder, env)
    assert html.startswith("<!DOCTYPE html>") and "MaddyNews" in html
    assert not (folder / "templates").exists()
