"""The command line in its user's language (Vietnamese unless ``--lang en`` or ``LOA_LANG=en``).

Help texts, option descriptions, click's and Typer's own words (``Usage:``, ``No such option``) and loa's
errors all go through the same Babel catalogs as the web (``loa.i18n``); the command line's own words are in
``cli.po``, click's and Typer's too (their English text is the message id). The catalogs are read when the
first word is translated, never on import, and nothing heavy is imported here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from loa.i18n import DEFAULT, translations

#: The language of the running command; the root command sets it from ``--lang`` / ``LOA_LANG`` before it
#: parses anything.
current = DEFAULT


def set_language(lang: str) -> None:
    global current
    current = lang
    _install_usage_prefix()


def say(message: str, **params: Any) -> str:
    """``message`` (an English message id of the catalogs) in the current language, filled from ``params``."""
    text = translations(current).gettext(message)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return message.format(**params)


def word(value: str) -> str:
    """A word loa keeps as data (a state, an outlet, a role) in the current language."""
    return _gettext(value)


def _gettext(message: str) -> str:
    return translations(current).gettext(message)


def _install_usage_prefix() -> None:
    """click writes "Usage: " in English; have it ask the catalog (once per process, in the current language)."""
    from typer._click.formatting import HelpFormatter

    if getattr(HelpFormatter.write_usage, "_loa", False):
        return
    english = HelpFormatter.write_usage

    def write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        english(self, prog, args, f"{_gettext('Usage:')} " if prefix is None else prefix)

    write_usage._loa = True  # type: ignore[attr-defined]
    HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]


#: What click (as vendored by Typer, which says it in English f-strings, not through gettext) says when a command
#: line is wrong, as English templates: each is a message id of ``cli.po``, matched against click's sentence to
#: say it again in the current language. The longer forms come first.
CLICK_MESSAGES = (
    "No such option: {name} (Possible options: {options})",
    "No such option: {name}",
    "No such command {name}. Did you mean {suggestions}?",
    "No such command {name}.",
    "Missing command.",
    "Missing argument {name}.",
    "Missing option {name}.",
    "Missing parameter {name}.",
    "Option {name} requires an argument.",
    "Option {name} requires {count} arguments.",
    "Option {name} does not take a value.",
    "Got unexpected extra argument(s) ({words})",
    "Invalid value for {name}: {problem}",
    "Invalid value: {problem}",
    "Input should be a valid integer, unable to parse string as an integer",
    "Input should be a valid number, unable to parse string as a number",
    "Input should be greater than or equal to {limit}",
    "Input should be less than or equal to {limit}",
    "Input should be {choices}",
    "Value {value} is not a valid {kind}.",
)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
    return re.compile(f"{regex}$", re.DOTALL)


def click_text(message: str) -> str:
    """click's English ``message`` in the current language (unchanged when no template matches)."""
    if current == "en":
        return message
    for template in CLICK_MESSAGES:
        found = _pattern(template).match(message)
        if found:
            params = {key: click_text(value) if key == "problem" else value for key, value in found.groupdict().items()}
            return _gettext(template).format(**params) if params else _gettext(template)
    return message


def translate_error(error: Any) -> None:
    """Let a click usage error say its message in the current language when Typer prints it."""
    if getattr(error, "_loa_translated", False) or current == "en":
        return
    original = error.format_message
    error.format_message = lambda: click_text(original())
    error._loa_translated = True


#: Typer's words fixed when its help formatter is imported; set again in the current language before it speaks.
_RICH_WORDS = {
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
    "DEPRECATED_STRING": "(deprecated) ",
}


def install_typer_words() -> None:
    """Typer's help and error panels in the current language (imports Typer's formatter: only when it will
    speak, for help or a usage error)."""
    try:
        from typer import rich_utils
    except ImportError:  # pragma: no cover - Typer without rich prints through click's words
        return
    for name, message in _RICH_WORDS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, _gettext(message))


def wants_help(root: Any, args: list[str]) -> bool:
    """Whether the command line will print help: no words at all, ``--help`` before any ``--``, or a group of
    commands named without one of its commands (``loa piece``)."""
    words = args[:args.index("--")] if "--" in args else args
    if not words or "--help" in words:
        return True
    command = root
    for word in words:
        sub = getattr(command, "commands", {}).get(word)
        if sub is not None:
            command = sub
    return hasattr(command, "commands")


def _value_word(param: Any) -> str | None:
    """What an option's value is, for the help's type column: nothing for a flag, else a word of the catalog
    (never Python's type names like ``<bool>``)."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_choice and desc.choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in desc.choices)
    annotation = getattr(desc, "annotation", None)
    items = getattr(annotation, "__args__", None) if desc is not None and desc.is_list else None
    kind = items[0] if items else annotation
    if kind in (int, float):
        word = _gettext("NUMBER")
    elif desc is not None and desc.is_path:
        word = _gettext("PATH")
    elif desc is not None and desc.is_datetime:
        word = _gettext("TIME")
    else:
        word = _gettext("TEXT")
    return f"{word}..." if items or getattr(param, "multiple", False) else word


def translate_tree(command: Any, ctx: Any, seen: set[int] | None = None) -> None:
    """Every help text, epilog and option description below ``command`` in the current language, and the
    type column of the help in words instead of Python's type names."""
    seen = set() if seen is None else seen
    if id(command) in seen:
        return
    seen.add(id(command))
    for attribute in ("help", "short_help", "epilog"):
        text = getattr(command, attribute, None)
        if isinstance(text, str) and text:
            setattr(command, attribute, _gettext(text))
    help_option = command.get_help_option(ctx) if hasattr(command, "get_help_option") else None
    for param in [*getattr(command, "params", ()), *([help_option] if help_option is not None else [])]:
        if isinstance(getattr(param, "help", None), str) and param.help:
            param.help = _gettext(param.help)
        if hasattr(param, "display_type"):  # an option's own metavar still wins (Typer shows it first)
            word = _value_word(param)
            param.display_type = lambda ctx, word=word: word
    for sub in getattr(command, "commands", {}).values():
        translate_tree(sub, ctx, seen)
