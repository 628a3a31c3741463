"""The global options of the command line and the services they open, shared by every command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from loa.clock import check_day

if TYPE_CHECKING:
    from content.models import User
    from loa.settings import Settings
    from loa.wiring import Services


@dataclass
class State:
    config_dir: Path
    db: str | None
    as_json: bool
    now_text: str | None
    user: str | None
    _services: Services | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        from loa.settings import load_settings

        return load_settings(self.config_dir, database_url=self.db)

    def parse_time(self, text: str, option: str, *, end_of_day: bool = False) -> datetime:
        """``dd/mm/yyyy``, ``dd/mm/yyyy HH:MM`` or ISO, in the configured zone (loa.clock.parse_moment)."""
        from loa.clock import parse_moment

        return parse_moment(text, self.services().settings.zone, option, end_of_day=end_of_day)

    def services(self) -> Services:
        if self._services is None:
            from loa.wiring import open_services

            settings = self.settings()
            now = None
            if self.now_text:
                from content.errors import InputError

                try:
                    now = datetime.fromisoformat(self.now_text)
                except ValueError:
                    raise InputError("{text!r} is not an ISO-8601 time", where="--now", text=self.now_text) from None
                if now.tzinfo is None:
                    now = now.replace(tzinfo=settings.zone)
                check_day(now, "--now")
            self._services = open_services(settings, now=now)
        return self._services

    def acting_user(self) -> User:
        """The ``--as`` user, read once (in a transaction of its own: call it before opening another)."""
        from content.db import unit_of_work
        from content.users import get_user

        cached = self.__dict__.get("_acting")
        if cached is not None and cached.name == self.user:
            return cached
        with unit_of_work(self.services().sessions) as session:
            user = get_user(session, self.user)
        self.__dict__["_acting"] = user
        return user

    def account(self) -> User | None:
        """The ``--as`` user when that names an account (else ``--as`` only names who acts, in the audit log)."""
        from content.errors import NotFound

        if not self.user:
            return None
        if self.__dict__.get("_no_account") == self.user:  # looked up once already
            return None
        try:
            return self.acting_user()
        except NotFound:
            self.__dict__["_no_account"] = self.user
            return None

    def reach(self) -> frozenset[str] | None:
        """With ``--as`` an account, the stations it works on (its centre's subtree); None: every station."""
        from content import scope

        user = self.account()
        return None if user is None else scope.reach(user)

    def require_station(self, code: str, what: str) -> None:
        """Refuse (NotAllowed) a station outside the acting account's reach."""
        from content import scope

        user = self.account()
        if user is not None:
            scope.require_covers(user, [code], what)


def state_of(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def _value_count(option: Any) -> int:
    """How many of the following words ``option`` takes as its value (0 for a flag)."""
    return 0 if getattr(option, "is_flag", False) or getattr(option, "count", False) else max(option.nargs, 1)


def hoist_global_options(root: Any, ctx: typer.Context, args: list[str]) -> list[str]:
    """``args`` with the root's options that were written after a (sub)command moved before it.

    ``loa dispatch --now T`` becomes ``loa --now T dispatch``. The words are walked with each command's own
    options in mind, so an option's value is never taken for a global option, a command's own option of the
    same name keeps its meaning, and nothing after ``--`` moves.
    """
    from typer.core import TyperGroup

    global_options = {name: p for p in root.get_params(ctx) if p.name != "help" for name in getattr(p, "opts", ())}
    front: list[str] = []
    rest: list[str] = []
    command, at = root, 0
    while at < len(args):
        word = args[at]
        at += 1
        if word == "--":
            rest += args[at - 1:]
            break
        if not word.startswith("--"):
            rest.append(word)
            if isinstance(command, TyperGroup) and (sub := command.get_command(ctx, word)) is not None:
                command = sub
            continue
        name, has_value, _ = word.partition("=")
        own = next((p for p in command.get_params(ctx)
                    if name in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))), None)
        option = own or global_options.get(name)
        taken = 0 if option is None or has_value else _value_count(option)
        (rest if own is not None or option is None else front).extend(args[at - 1:at + taken])
        at += taken
    return front + rest



def note_global_options(group: Any, names: str = "", *, say: Any = None) -> None:
    """Say in the help of every command below ``group`` (the root) that the global options may follow it
    (``say``: the sentence in the command line's language)."""
    names = names or ", ".join(opt for p in group.params for opt in getattr(p, "opts", ()))
    text = (say or str.format)("Global options ({names}) may come before or after the command.", names=names)
    for command in group.commands.values():
        command.epilog = command.epilog or text
        if hasattr(command, "commands"):
            note_global_options(command, names, say=say)
