"""The command line documents itself: each command's help has an example, and README.md lists
every command, option and configuration key the code has, and nothing the code lacks."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import click

from newsletter.cli import cli
from newsletter.domain.checked import is_section
from newsletter.domain.settings import Settings
from tests.conftest import write_config

README = Path(__file__).resolve().parents[1] / "README.md"
ALWAYS = {"--help"}  # click adds it to every command
# Heavy libraries a command imports when it runs; `newsletter --help` must not pay for them.
HEAVY = ["rich", "sqlalchemy", "alembic", "pydantic", "jinja2", "premailer", "fastapi", "httpx"]
HEAVY += ["starlette", "uvicorn", "apscheduler", "cryptography", "sendgrid", "feedparser", "PIL"]
HEAVY += ["lxml", "psycopg", "asyncio", "email", "tomllib", "zoneinfo", "importlib.metadata"]
HEAVY += [f"newsletter.{package}" for package in ("store", "runtime", "deliver", "render", "web")]
HEAVY += ["newsletter.collect", "newsletter.curate", "newsletter.audience"]
HEAVY += ["newsletter.domain.settings"]
# What `newsletter issue list` on SQLite must not pay for: it reads the configuration and the
# database and prints a table, nothing else.
NOT_FOR_LISTING = ["alembic", "jinja2", "premailer", "fastapi", "starlette", "uvicorn", "httpx"]
NOT_FOR_LISTING += ["apscheduler", "cryptography", "sendgrid", "feedparser", "PIL", "lxml"]
NOT_FOR_LISTING += ["psycopg", "sqlalchemy.dialects.postgresql", "sqlalchemy.orm", "smtplib"]
NOT_FOR_LISTING += ["newsletter.render.renderer", "newsletter.web", "newsletter.collect"]
NOT_FOR_LISTING += ["pydantic", "newsletter.audience", "newsletter.deliver.sendgrid", "email.mime"]
# Nor the types and tables of readers and deliveries (each class and table costs its start-up).
NOT_FOR_LISTING += ["newsletter.domain.readers", "newsletter.domain.delivery"]
NOT_FOR_LISTING += ["newsletter.store.reader_tables", "newsletter.store.desk_tables"]
# Loaded modules, printed as the command exits.
PROBE = (
    "import atexit, sys; atexit.register(lambda: print(' '.join(sorted(sys.modules)))); "
    "sys.argv = ['newsletter', *sys.argv[1:]]; from newsletter.cli import main; main()"
)


def commands(group: click.Group, prefix: str = "newsletter") -> dict[str, click.Command]:
    """Every command and group by its full name ("newsletter issue send"), the root included."""
    found: dict[str, click.Command] = {prefix: group}
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found.update(commands(command, f"{prefix} {name}"))
        else:
            found[f"{prefix} {name}"] = command
    return found


def options_of(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts if opt.startswith("--")}


def code_reference(group: click.Group) -> dict[str, set[str]]:
    """What README's reference must list: the root's options and each command's, but --config,
    which every command takes (the README says so once), and --help."""
    reference = {}
    for name, command in commands(group).items():
        if name == "newsletter":
            reference[name] = options_of(command) - ALWAYS
        elif not isinstance(command, click.Group):
            reference[name] = options_of(command) - ALWAYS - {"--config"}
    return reference


def readme_section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def readme_reference(text: str, group: click.Group) -> dict[str, set[str]]:
    """The first code block of README's Commands section: one command and its options a line."""
    block = re.search(r"```\n(.*?)```", readme_section(text, "Commands"), re.S)
    assert block is not None, "README's Commands section has no code block"
    reference: dict[str, set[str]] = {}
    for line in block.group(1).splitlines():
        name, options = resolve(line.split(), group)
        reference[name] = options
    return reference


def resolve(words: list[str], group: click.Group) -> tuple[str, set[str]]:
    """`newsletter issue send ID [--yes]` -> ("newsletter issue send", {"--yes"}).

    Lower-case words after `newsletter` name subcommands for as long as there is a group to
    look them up in: an unknown one is returned as part of the name, so it shows as missing.
    """
    assert words[0] == "newsletter"
    name, rest = "newsletter", words[1:]
    command: click.Command = group
    while rest and isinstance(command, click.Group) and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        name = f"{name} {rest[0]}"
        found = command.get_command(click.Context(command), rest[0])
        rest = rest[1:]
        if found is None:
            return name, set()
        command = found
    options = set()
    for word in rest:
        if word in {"|", "||", "&&", ";", "#", ">"}:
            break
        option = word.strip("[]").split("=")[0]
        if option.startswith("--"):
            options.add(option)
    return name, options


def code_in(text: str) -> list[str]:
    """The lines of every fenced block and every inline code span of a Markdown text."""
    fences = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
    lines = [line for block in fences.findall(text) for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", fences.sub("", text))


def mention_problems(text: str, group: click.Group) -> list[str]:
    """Every `newsletter ...` written in README's code names a command and options it has."""
    known = commands(group)
    problems = []
    for line in code_in(text):
        commands_run = re.split(r"\s(?:&&|\|\||\||;)\s", line)
        for match in (
            found
            for command_run in commands_run
            for found in re.finditer(r"(?:^|(?<=[\s/=]))newsletter((?:[ \t]+\S+)*)", command_run)
        ):
            name, options = resolve(["newsletter", *match.group(1).split()], group)
            if name not in known:
                problems.append(f"{line!r}: no command {name!r}")
                continue
            allowed = set().union(*(options_of(known[n]) for n in known if name.startswith(n)))
            unknown = options - allowed - ALWAYS
            if unknown:
                problems.append(f"{line!r}: {name} has no {', '.join(sorted(unknown))}")
    return problems


def config_keys(section_type: type, section: str = "") -> set[str]:
    """Every key of the configuration file, dotted with its table: "email.smtp.host"."""
    keys = set()
    for name, annotation in section_type.__annotations__.items():
        while typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        inner = typing.get_args(annotation)[0] if typing.get_origin(annotation) is tuple else None
        dotted = f"{section}.{name}" if section else name
        if is_section(annotation):
            keys |= config_keys(annotation, dotted)
        elif is_section(inner):  # [[feeds]]
            keys |= config_keys(inner, dotted)
        else:
            keys.add(dotted)
    return keys


def readme_config_keys(text: str) -> set[str]:
    """Keys named in the first cell of README's configuration table: `[table] key, key`."""
    keys = set()
    for row in readme_section(text, "Configuration").splitlines():
        if not row.startswith("| `["):
            continue
        first_cell = row.split(" | ")[0]
        for span in re.findall(r"`([^`]+)`", first_cell):
            found = re.fullmatch(r"\[\[?([a-z_.]+)\]\]?\s*(.*)", span)
            assert found is not None, f"not `[table] key, ...`: {span!r}"
            table, names = found.groups()
            keys |= {f"{table}.{key.strip()}" for key in names.split(",") if key.strip()}
    return keys


def test_every_command_has_a_help_with_an_example() -> None:
    """Each command's docstring is its --help and ends with an example that runs it."""
    missing, wrong = [], []
    for name, command in commands(cli).items():
        help_text = command.help or ""
        example = help_text.partition("Example:")[2]
        if not help_text.strip() or name not in example:
            missing.append(name)
        wrong += mention_problems(f"```\n{example.strip()}\n```\n", cli)
    assert (missing, wrong) == ([], [])
    assert len(commands(cli)) >= 21


def test_readme_lists_every_command_and_option() -> None:
    """README's reference block holds exactly the commands and options of the code."""
    text = README.read_text(encoding="utf-8")
    assert code_reference(cli) == readme_reference(text, cli)


def test_every_command_written_in_the_readme_exists() -> None:
    """Commands in README's examples (deployment, quick start...) exist with those options."""
    assert mention_problems(README.read_text(encoding="utf-8"), cli) == []


def test_readme_documents_every_config_key() -> None:
    """The configuration table names every key of the schema, and no key the schema lacks."""
    documented = readme_config_keys(README.read_text(encoding="utf-8"))
    assert config_keys(Settings) == documented


def test_the_checks_catch_what_the_readme_gets_wrong() -> None:
    """A command, option or key missing from the README, or one documented but not in the
    code, is each reported: the checks above can fail."""
    text = README.read_text(encoding="utf-8")
    reference = readme_reference(text, cli)
    without_send = text.replace(
        "newsletter issue send ID [--yes] [--resend-uncertain] [--dry-run] [--json]\n", ""
    )
    assert "newsletter issue send" not in readme_reference(without_send, cli)
    wrong_option = text.replace("[--feed NAME]", "[--feeds NAME]")
    assert readme_reference(wrong_option, cli)["newsletter collect"] == {"--feeds", "--json"}
    assert reference["newsletter collect"] == {"--feed", "--json"}
    invented = "Run `newsletter stories --json` or `newsletter issue send 1 --force`.\n"
    assert mention_problems(invented, cli) == [
        "'newsletter stories --json': no command 'newsletter stories'",
        "'newsletter issue send 1 --force': newsletter issue send has no --force",
    ]
    chained = "`newsletter init && newsletter run --log-json`, `newsletter --config x init`"
    assert mention_problems(chained, cli) == []
    assert mention_problems("`newsletter init && newsletter run --reload`", cli) == [
        "'newsletter init && newsletter run --reload': newsletter run has no --reload"
    ]
    keys = readme_config_keys(text.replace(", enrich_max_per_feed`", "`"))
    assert "collect.enrich_max_per_feed" in config_keys(Settings) - keys
    assert {"feeds.name", "email.smtp.host", "theme.dark_text_color"} <= config_keys(Settings)


def test_help_imports_no_heavy_library() -> None:
    """`newsletter --help` loads only the command modules: each command imports what it runs."""
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE, "--help"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [name for name in HEAVY if name in loaded] == []
    assert "newsletter.cli.issue" in loaded and "click" in loaded


def test_listing_issues_imports_only_what_it_uses(tmp_path: Path) -> None:
    """`newsletter issue list` on SQLite loads the store and the table printer, not the
    renderer, the web app, the providers or PostgreSQL's dialect and drivers."""
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'list.db'}")
    (tmp_path / "templates").symlink_to(Path(__file__).resolve().parents[1] / "templates")
    run = [sys.executable, "-c", PROBE, "--config", str(config)]
    subprocess.run([*run, "init"], capture_output=True, check=True, cwd=tmp_path)
    listing = subprocess.run(
        [*run, "issue", "list"], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    loaded = listing.stdout.split()

    assert "sqlalchemy" in loaded and "rich.table" in loaded  # it did list
    assert [name for name in NOT_FOR_LISTING if name in loaded] == []
