"""Every message the command line says has a Vietnamese translation in the catalogs, each translation fills only
the fields its English message has, and no catalog holds a message twice."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import typer
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from loa import i18n
from loa.cli import lang
from loa.cli.app import app

ROOT = Path(i18n.__file__).parents[1]
CATALOGS = sorted(i18n.LOCALES.glob("*/LC_MESSAGES/*.po"))


def _vietnamese() -> dict[str, str]:
    merged: dict[str, str] = {}
    for domain in i18n.DOMAINS:
        merged.update(i18n.read_catalog(i18n.LOCALES / "vi" / "LC_MESSAGES" / f"{domain}.po"))
    return merged


def _help_texts() -> set[str]:
    """Every help text, epilog and option description of the command tree, as the code writes them."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    found: set[str] = {"Global options ({names}) may come before or after the command."}

    def walk(command) -> None:
        for attribute in ("help", "short_help", "epilog"):
            if getattr(command, attribute, None):
                found.add(getattr(command, attribute))
        help_option = command.get_help_option(ctx)
        for param in [*command.params, *([help_option] if help_option else [])]:
            if getattr(param, "help", None):
                found.add(param.help)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(root)
    return found


#: Where the command line's own words are said (``say``) and its own refusals raised.
SAID_IN = ("loa/cli", "loa/errors.py", "loa/plan_report.py")
KEYWORDS = {name: None for name in ("say", "LoaError", "InputError", "NotFound", "NotAllowed", "StateError",
                                    "IntegrityError", "ConfigError")}

#: Modules below the command line whose refusals it prints (``loa ingest``, ``loa feed``, ``loa audit``,
#: ``loa report``, ``loa serve``, ``loa db copy``): their templates must read in Vietnamese too.
CONVERTED = ("content/dates.py", "loa/settings.py", "loa/settings_checks.py", "loa/serve.py", "loa/dbcopy.py",
             "loa/database.py", "content/ingest/files.py",
             "content/ingest/encodings.py", "content/ingest/fetch.py", "content/ingest/feeds.py",
             "content/ingest/polling.py", "content/media.py", "content/render/renditions.py",
             "content/render/program.py", "content/seals.py", "content/audit.py", "scheduler/reports")


def _said() -> set[str]:
    found: set[str] = set()
    for source in (*SAID_IN, *CONVERTED):
        path = ROOT / source
        if path.is_dir():
            messages = [m for _, _, m, _, _ in extract_from_dir(str(path), method_map=[("*.py", "python")],
                                                                  keywords=KEYWORDS)]
        else:
            messages = [m for _, m, _, _ in extract_from_file("python", str(path), keywords=KEYWORDS)]
        found |= {m for m in messages if isinstance(m, str)}
    return found


def _hints() -> set[str]:
    """The command-line hints errors carry (``hint="…"``), wherever they are raised."""
    found: set[str] = set()
    for layer in ("content", "scheduler", "loa"):
        for path in (ROOT / layer).rglob("*.py"):
            found |= set(re.findall(r'hint="([^"]+)"', path.read_text(encoding="utf-8")))
    return found


def _reasons() -> set[str]:
    from scheduler.planning import planner
    from scheduler.planning.reasons import TEMPLATES

    found = {template for templates in TEMPLATES.values() for template in templates.values()}
    return found | ({planner.LEADING_RULE} if hasattr(planner, "LEADING_RULE") else set())  # `loa plan`'s priority line


@pytest.mark.parametrize("what", ["help", "click", "said", "hints", "reasons"])
def test_every_message_the_command_line_says_has_a_vietnamese_translation(what):
    messages = {
        "help": _help_texts,
        "click": lambda: {*lang.CLICK_MESSAGES, *lang._RICH_WORDS.values(), "Usage:", "NUMBER", "PATH", "TIME",
                          "TEXT"},
        "said": _said,
        "hints": _hints,
        "reasons": _reasons,
    }[what]()
    assert len(messages) > 3  # the extraction found them
    missing = sorted(messages - set(_vietnamese()))
    assert not missing, f"add these to loa/web/locales/vi/LC_MESSAGES/cli.po (or planner.po): {missing}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_a_translation_fills_only_the_fields_of_its_message():
    for message, translation in _vietnamese().items():
        if "{" in message or "{" in translation:
            try:
                assert _fields(translation) <= _fields(message), (message, translation)
            except ValueError:  # a message with literal braces, not a template
                continue


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_loa_reads_each_catalog_as_babel_does(po: Path):
    with po.open("rb") as handle:
        babel = {m.id: m.string for m in read_po(handle) if m.id and m.string and not m.fuzzy}
    assert i18n.read_catalog(po) == babel


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_catalog_holds_a_message_twice(po: Path):
    ids: list[str] = []
    current: list[str] | None = None
    for line in po.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[6:]]
            ids.append("")
        elif line.startswith('"') and current is not None:
            current.append(line)
        elif current is not None:
            ids[-1] = "".join(current)
            current = None
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_the_command_line_reads_no_catalog_until_it_speaks():
    import subprocess
    import sys

    code = "import sys, loa.cli.app; print('babel' in sys.modules, 'loa.i18n' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == ["False", "False"]
