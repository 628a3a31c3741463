"""The global options of the command line and the services they open, shared by every command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

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

    def parse_time(self, text: str, option: str) -> datetime:
        from content.errors import InputError

        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(f"{text!r} is not an ISO-8601 time, e.g. 2026-10-01T06:00", where=option) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.services().settings.zone)
        return moment

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
                    raise InputError(f"{self.now_text!r} is not an ISO-8601 time", where="--now") from None
                if now.tzinfo is None:
                    now = now.replace(tzinfo=settings.zone)
            self._services = open_services(settings, now=now)
        return self._services

    def acting_user(self) -> User:
        from content.db import unit_of_work
        from content.users import get_user

        with unit_of_work(self.services().sessions) as session:
            return get_user(session, self.user)


def state_of(ctx: typer.Context) -> State:
    return ctx.find_root().obj
