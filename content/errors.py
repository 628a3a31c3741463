"""The errors loa raises for users, one tree shared by every layer above ``channels``.

::

    LoaError                 anything loa refuses to do, with a message fit for a user
    ├── ConfigError          a configuration file is wrong; names the file and key path
    ├── InputError           bad input from a user; names the file, line or field
    │   └── NotFound         a piece, user, station or delivery that does not exist
    ├── NotAllowed           the acting user may not do this (e.g. approve their own piece)
    ├── StateError           the thing is not in a state that allows this (e.g. approve a draft)
    │   └── Stale            the piece changed since the reviewer opened it (approve what was seen)
    └── IntegrityError       stored content no longer matches what was approved

The command line prints ``str(error)`` on one line and exits non-zero; the web app shows the message
translated beside the form field it names (``where``), or on a page of its own. Nothing in this tree
should ever reach a user as a traceback.
"""

from __future__ import annotations

from typing import Any


class LoaError(Exception):
    """A refusal with a message written for the person who asked.

    ``message`` is an English template with ``{name}`` fields filled from ``params``: the template is the
    message's code, which the web app looks up in its Babel catalog to say the same in the reader's
    language; a tuple parameter reads as alternatives (``editor or approver``). ``hint`` (e.g. which
    command lists the ids) is for the command line only; it is a template too, filled from the same ``params``.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, **params: Any) -> None:
        self.template = message
        self.params = params
        self.hint = hint
        filled = {key: " or ".join(value) if isinstance(value, tuple) else value for key, value in params.items()}
        self.text = message.format(**filled) if params else message
        hint_text = hint.format(**filled) if hint and params else hint
        super().__init__(f"{self.text}; {hint_text}" if hint_text else self.text)


class ConfigError(LoaError):
    """A configuration file is missing, malformed or inconsistent."""

    exit_code = 3


class InputError(LoaError):
    """Bad input from a user. ``where`` names the file, line or field when known."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None, **params: Any) -> None:
        super().__init__(message, hint=hint, **params)
        self.where = where
        if where:
            self.args = (f"{where}: {self.args[0]}",)


class NotFound(InputError):
    """The named thing does not exist."""


class NotAllowed(LoaError):
    """The acting user is not allowed to do this."""

    exit_code = 4


class StateError(LoaError):
    """The thing exists but its state does not allow this action."""

    exit_code = 5


class Stale(StateError):
    """The revision a reviewer saw is no longer the piece's current one; ``seen`` and ``current`` are
    (revision id, sha256) pairs, so the caller can show what changed."""

    def __init__(self, message: str, *, piece_id: int, seen: tuple[int | None, str | None],
                 current: tuple[int, str]) -> None:
        super().__init__(message)
        self.piece_id = piece_id
        self.seen = seen
        self.current = current


class IntegrityError(LoaError):
    """Stored content differs from what was approved, or the audit chain is broken."""

    exit_code = 6
