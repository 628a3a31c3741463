"""Vietnamese (default) and English for every layer that speaks to a person: the web pages and the command line.

One set of Babel catalogs (``loa/web/locales/{vi,en}/LC_MESSAGES/*.po``), read when first used (no build step for
.mo files). Their English message ids are the codes: an error's template (``content.errors``), a
planner reason's template (``scheduler.planning.reasons``), a page's words, a command's help. This module imports
only the standard library at import time, so the command line can use it without slowing ``loa --help``.
"""

from __future__ import annotations

import gettext as _gettext
import os
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from content.errors import LoaError

#: The catalogs stay beside the web templates that use most of them (the pages' words are edited there).
LOCALES = Path(__file__).parent / "web" / "locales"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"

#: The committed catalogs of a language: the command line's help and words, the planner's reasons (the web piece
#: page and ``loa plan`` say them alike), the pages' words and loa's errors; merged into one, a later one winning
#: for a message two hold (none should). ``tests/loa/web/test_catalogs.py`` and ``tests/loa/test_cli_catalog.py``
#: check that everything used has a Vietnamese translation.
DOMAINS = ("cli", "planner", "messages", "errors")

#: The environment variable that picks the command line's language (``--lang`` wins over it).
LANG_ENV = "LOA_LANG"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(line: str) -> str:
    """The text of one quoted .po line (``"a \\"b\\"\\n"``)."""
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), m.group(1)), line.strip()[1:-1])


def read_catalog(path: Path) -> dict[str, str]:
    """The translated messages of a .po file, id to text (fuzzy, obsolete and untranslated ones left out).

    A reader of the plain form Babel writes (no contexts or plurals, which loa's catalogs do not use), because
    importing Babel would cost the command line's start more than reading its catalogs;
    ``tests/loa/test_cli_catalog.py`` checks it reads every committed catalog as Babel does."""
    entries: dict[str, str] = {}
    msgid: list[str] = []
    msgstr: list[str] = []
    target: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal msgid, msgstr, target, fuzzy
        key, text = "".join(msgid), "".join(msgstr)
        if key and text and not fuzzy:
            entries[key] = text
        msgid, msgstr, target, fuzzy = [], [], None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            if target is not None:
                flush()
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith("#"):
            if target is not None and not line.startswith("#~"):
                flush()
        elif line.startswith("msgid "):
            if target is not None:
                flush()
            target = msgid
            target.append(_unquote(line[6:]))
        elif line.startswith("msgstr "):
            target = msgstr
            target.append(_unquote(line[7:]))
        elif line.startswith('"') and target is not None:
            target.append(_unquote(line))
    flush()
    return entries


class _Catalog(_gettext.NullTranslations):
    """The translations of one language, from a mapping (what a compiled .mo would hold)."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        super().__init__()
        self.entries = dict(entries)

    def gettext(self, message: str) -> str:
        return self.entries.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalogs of ``lang`` compiled from their committed .po files; an unknown language reads as English."""
    if lang not in LANGUAGES:
        return _gettext.NullTranslations()
    entries: dict[str, str] = {}
    for domain in DOMAINS:
        po = LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"
        if po.exists():
            entries.update(read_catalog(po))
    return _Catalog(entries)


def pick(value: str | None) -> str | None:
    """``value`` as one of LANGUAGES (``vi``, ``en``, also ``vi_VN.UTF-8`` or ``EN``), else None."""
    if not value:
        return None
    code = value.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return code if code in LANGUAGES else None


def cli_language(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> str:
    """The command line's language: ``--lang X`` in ``argv``, else ``LOA_LANG``, else Vietnamese."""
    args = list(argv or ())
    for at, word in enumerate(args):
        if word == "--":
            break
        if word == "--lang" and at + 1 < len(args):
            return pick(args[at + 1]) or DEFAULT
        if word.startswith("--lang="):
            return pick(word.partition("=")[2]) or DEFAULT
    return pick((os.environ if env is None else env).get(LANG_ENV)) or DEFAULT


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def render(template: str, params: Mapping[str, Any], lang: str, *, fallback: str | None = None,
           days: bool = False) -> str:
    """``template`` looked up in ``lang``'s catalog and filled from ``params``: words loa keeps as data (states,
    outlets, roles) translated too, a tuple read as alternatives (``editor or approver``) and, with ``days``,
    ISO days (``2026-12-31``) written as the app writes them (31/12/2026). ``fallback`` (else the English
    template) when the catalog's sentence names a field the parameters lack."""
    from content.errors import LoaError

    gettext = translations(lang).gettext

    def word(value: object) -> object:
        if isinstance(value, LoaError):  # an error quoted by another (``audit log broken: {reason}``)
            return render(value.template, value.params, lang, fallback=value.text, days=days)
        if isinstance(value, str) and (value in DYNAMIC or value in _plain_reasons()):
            return gettext(value)
        if days and isinstance(value, str) and _ISO_DAY.fullmatch(value):
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
        return value

    filled = {key: gettext(" or ").join(str(word(v)) for v in value) if isinstance(value, tuple) else word(value)
              for key, value in params.items()}
    text = gettext(template)
    try:
        return text.format(**filled) if params else text
    except (KeyError, IndexError, ValueError):  # a catalog entry naming a field the message lacks
        if fallback is not None:
            return fallback
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template


@cache
def _plain_reasons() -> frozenset[str]:
    """The planner's reasons that have no fields: an error that quotes one (a held pin's reason) says it in the
    reader's language too."""
    from scheduler.planning.reasons import TEMPLATES

    return frozenset(t for templates in TEMPLATES.values() for t in templates.values() if "{" not in t)


def error_text(error: LoaError, lang: str) -> str:
    """What ``error`` says in ``lang``: its template looked up in the catalog, its parameters filled in
    (states, outlets and roles translated too); no command-line hint and no field name, which the form
    shows by placing the message beside the field."""
    return render(error.template, error.params, lang, fallback=error.text)


def error_line(error: LoaError, lang: str) -> str:
    """The one line the command line prints for ``error``: the field or file it names, the message and the
    command-line hint, each in ``lang``."""
    text = error_text(error, lang)
    where = getattr(error, "where", None)
    if where:
        text = f"{where}: {text}"
    if error.hint:
        text = f"{text}; {render(error.hint, error.params, lang)}"
    return text


def reason_text(kind: str, code: str, params: Mapping[str, Any] | None, lang: str, *,
                fallback: str = "") -> str:
    """Why the planner did not place a piece (``unplaced``), did not meet a campaign's target (``target``) or
    held a pin out of its program (``held``), in ``lang``: the code's English template (one per rule, in
    ``scheduler.planning.reasons``) through the catalog. ``fallback`` for a code this version does not know."""
    from scheduler.planning.reasons import TEMPLATES

    template = TEMPLATES[kind].get(code)
    if template is None:
        return fallback or code
    params = dict(params or {})
    try:
        template.format(**params)
    except (KeyError, IndexError, ValueError):  # stored before reasons carried their parameters
        return fallback or code
    return render(template, params, lang, fallback=fallback or None, days=True)


#: Words that reach templates as data (states, outlets, roles, weekdays) rather than as literals;
#: the catalog test checks these are translated too.
DYNAMIC = ("draft", "submitted", "approved", "rejected", "retired", "pending", "sending", "delivered", "dead",
           "refused", "missed", "loudspeaker", "board", "portal", "social", "print", "editor", "approver", "admin",
           "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "normal", "priority", "emergency")
