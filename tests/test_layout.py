"""The package's import rule (stated in `newsletter.__doc__`), checked on every module's imports.

Imports inside functions count as much as those at the top. The exceptions the redesign has not
removed yet are listed once, in ALLOWED, each with its reason; a new violation fails, and so does
an exception that no longer happens (delete its line: the list only shrinks).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "newsletter"

# Each outside library the product names, and the one module or folder allowed to import it.
LIBRARY_HOMES = {
    "sqlalchemy": "newsletter.store",
    "alembic": "newsletter.store",
    "feedparser": "newsletter.collect.parse",
    "premailer": "newsletter.render",
    "sendgrid": "newsletter.deliver.sendgrid",
    "python_http_client": "newsletter.deliver.sendgrid",  # the SendGrid SDK's HTTP layer
    "apscheduler": "newsletter.runtime.scheduler",
}
# Below the wiring: they receive what they need as arguments and never import runtime/.
BELOW_WIRING = ("domain", "collect", "curate", "render", "deliver", "audience", "store")
# Drivers: only they import themselves, plus the one importer each needs to be started.
DRIVERS = {
    "newsletter.web": ("newsletter.runtime.process",),  # the `run` process serves the web app
    "newsletter.cli": (),  # `python -m newsletter.cli` runs it from its own __main__
}
TOP_LEVEL_FILES = {"__init__.py", "py.typed"}  # py.typed: the PEP 561 marker
MAX_TOP_LEVEL_ENTRIES = 12  # every file and folder counts

# (importer, imported) -> why it is still there. Later steps of issue 13 remove these lines.
ALLOWED: dict[tuple[str, str], str] = {
    # Empty: every exception of the first move is gone. A new one needs its reason here.
}


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported}: {self.rule}"


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file of every module (a folder's `__init__` stands for the folder)."""
    names = {}
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported_names(module: str, source: str, is_package: bool, known: set[str]) -> set[str]:
    """Every module (ours: the most precise known one; others: the top name) `source` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return {name if name.startswith("newsletter") else name.split(".")[0] for name in found}


def within(module: str, home: str) -> bool:
    return module == home or module.startswith(home + ".")


def folder_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations_of(importer: str, imported: str) -> list[str]:
    """The rules that `importer` importing `imported` breaks (pure)."""
    broken = []
    library_home = LIBRARY_HOMES.get(imported)
    if library_home is not None and not within(importer, library_home):
        broken.append(f"{imported} stays behind {library_home}")
    ours = within(imported, "newsletter")
    if ours and folder_of(importer) == "domain" and folder_of(imported) != "domain":
        broken.append("domain/ imports nothing of ours outside domain/")
    if ours and folder_of(importer) in BELOW_WIRING and folder_of(imported) == "runtime":
        broken.append(f"{folder_of(importer)}/ is below the wiring: it never imports runtime/")
    for driver, starters in DRIVERS.items():
        if within(imported, driver) and not within(importer, driver) and importer not in starters:
            broken.append(f"nothing imports {driver} but {', '.join(['itself', *starters])}")
    return broken


def violations_in(sources: dict[str, tuple[str, bool]]) -> set[Violation]:
    """All violations in `sources` (dotted name -> (source text, is a folder's __init__))."""
    known = set(sources)
    return {
        Violation(importer, imported, rule)
        for importer, (source, is_package) in sources.items()
        for imported in imported_names(importer, source, is_package, known)
        for rule in violations_of(importer, imported)
    }


def package_sources() -> dict[str, tuple[str, bool]]:
    return {
        name: (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for name, path in module_names(PACKAGE_DIR).items()
    }


def test_no_new_violation_of_the_import_rule() -> None:
    """Every import in src/newsletter/ follows the rule or is one of the listed exceptions."""
    found = violations_in(package_sources())
    new = sorted(str(v) for v in found if (v.importer, v.imported) not in ALLOWED)
    assert new == [], "new import-rule violations:\n" + "\n".join(new)


def test_every_listed_exception_still_happens() -> None:
    """An exception the code no longer needs is removed from ALLOWED, so the list only shrinks."""
    found = {(v.importer, v.imported) for v in violations_in(package_sources())}
    stale = sorted(f"{importer} -> {imported}" for importer, imported in ALLOWED.keys() - found)
    assert stale == [], "no longer violated, delete from ALLOWED:\n" + "\n".join(stale)


def test_the_check_sees_the_package() -> None:
    """The scan reads the real modules and their imports (a vacuous scan would pass anything)."""
    sources = package_sources()
    known = set(sources)
    assert {"newsletter.domain.model", "newsletter.runtime.wiring", "newsletter.cli"} <= known
    source, is_package = sources["newsletter.collect.parse"]
    imports = imported_names("newsletter.collect.parse", source, is_package, known)
    assert {"feedparser", "newsletter.domain.errors"} <= imports


def test_the_rule_catches_each_kind_of_violation() -> None:
    """Hand-written modules breaking each rule, at the top and inside functions, are all caught."""
    sources = {
        "newsletter.domain.bad": ("from newsletter.curate import issues\n", False),
        "newsletter.render.bad": ("def f():\n    import sqlalchemy.orm\n", False),
        "newsletter.curate.bad": ("def f():\n    from newsletter.runtime import wiring\n", False),
        "newsletter.collect.fetch": ("import feedparser\n", False),
        "newsletter.deliver.bad": ("from newsletter import web\nfrom sendgrid import X\n", False),
        "newsletter.runtime.jobs": ("from newsletter.cli import main\n", False),
        "newsletter.store.bad": ("from ..runtime.config import Config\n", False),
        "newsletter.runtime.scheduler": ("import apscheduler\n", False),
        "newsletter.web.ok": ("from newsletter.web import pages\nimport fastapi\n", False),
        "newsletter.runtime.process": ("from newsletter.web import create_app\n", False),
        "newsletter.web": ("", True),
        "newsletter.web.pages": ("", False),
        "newsletter.curate.issues": ("", False),
        "newsletter.runtime.wiring": ("", False),
        "newsletter.runtime.config": ("", False),
    }
    expected = {
        ("newsletter.domain.bad", "newsletter.curate.issues"),
        ("newsletter.render.bad", "sqlalchemy"),
        ("newsletter.curate.bad", "newsletter.runtime.wiring"),
        ("newsletter.collect.fetch", "feedparser"),
        ("newsletter.deliver.bad", "newsletter.web"),
        ("newsletter.deliver.bad", "sendgrid"),
        ("newsletter.runtime.jobs", "newsletter.cli"),
        ("newsletter.store.bad", "newsletter.runtime.config"),
    }
    assert expected == {(v.importer, v.imported) for v in violations_in(sources)}


def test_the_top_of_the_package_holds_only_folders_and_entry_points() -> None:
    """No flat module is left beside the folders, and the top stays a dozen entries at most."""
    entries = [p for p in PACKAGE_DIR.iterdir() if p.name != "__pycache__"]
    files = {p.name for p in entries if p.is_file()}
    assert files <= TOP_LEVEL_FILES, f"flat modules: {sorted(files - TOP_LEVEL_FILES)}"
    assert len(entries) <= MAX_TOP_LEVEL_ENTRIES, sorted(p.name for p in entries)
    assert all((p / "__init__.py").is_file() for p in entries if p.is_dir())


def test_the_package_docstring_states_the_rule() -> None:
    """The rule this file checks is written where readers of the package look first."""
    import newsletter

    doc = newsletter.__doc__ or ""
    for phrase in ["Import rule", "runtime/", "store/", "web/", "cli/", "tests/test_layout.py"]:
        assert phrase in doc


MAX_MODULE_LINES = 400


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at the top or inside functions)."""
    known = set(sources)
    return {
        module: {
            name
            for name in imported_names(module, source, is_package, known)
            if name in known and name != module
        }
        for module, (source, is_package) in sources.items()
    }


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each group of modules that import one another in a ring (Tarjan, iterative; pure)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_import_cycle() -> None:
    """No ring of modules importing one another, counting imports inside functions."""
    assert cycles_in(import_graph(package_sources())) == []


def test_the_cycle_check_finds_rings() -> None:
    """Hand-written rings, direct and through a function-level import, are all found."""
    sources = {
        "newsletter.a": ("from newsletter import b\n", False),
        "newsletter.b": ("def f():\n    from newsletter.c import x\n", False),
        "newsletter.c": ("import newsletter.a\n", False),
        "newsletter.d": ("from . import e\n", False),
        "newsletter.e": ("from newsletter.d import y\n", False),
        "newsletter.f": ("from newsletter import a\n", False),
    }
    expected = [["newsletter.a", "newsletter.b", "newsletter.c"], ["newsletter.d", "newsletter.e"]]
    assert expected == sorted(cycles_in(import_graph(sources)))


def test_no_module_over_400_lines() -> None:
    """Every module, migrations included, stays small enough to read in one sitting."""
    long = {
        str(path.relative_to(PACKAGE_DIR)): lines
        for path in PACKAGE_DIR.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
