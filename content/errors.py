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

The command line prints ``str(error)`` on one line and exits non-zero; the web app shows it
on the page. Nothing in this tree should ever reach a user as a traceback.
"""

from __future__ import annotations


class LoaError(Exception):
    """A refusal with a message written for the person who asked."""

    exit_code = 1


class ConfigError(LoaError):
    """A configuration file is missing, malformed or inconsistent."""

    exit_code = 3


class InputError(LoaError):
    """Bad input from a user. ``where`` names the file, line or field when known."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


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
