"""`loa user add --password-env VAR` gives an account a web password without it ever being on the command line."""

from __future__ import annotations

from argon2 import PasswordHasher

import content.accounts
from content.accounts import authenticate
from content.db import unit_of_work


def test_a_password_from_the_environment_lets_the_user_log_in(cli, services, monkeypatch):
    monkeypatch.setattr(content.accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setenv("LAN_PASSWORD", "mot-mat-khau-dai")
    cli("user", "add", "lan", "--role", "editor", "--password-env", "LAN_PASSWORD")
    with unit_of_work(services.sessions) as session:
        assert authenticate(session, "lan", "mot-mat-khau-dai", now=services.now()).name == "lan"
        assert authenticate(session, "lan", "sai", now=services.now()) is None


def test_a_missing_or_short_password_is_refused_and_creates_nobody(cli, services, monkeypatch):
    monkeypatch.delenv("NO_SUCH_VAR", raising=False)
    result = cli("user", "add", "hung", "--role", "approver", "--password-env", "NO_SUCH_VAR", ok=False)
    assert result.exit_code != 0 and "NO_SUCH_VAR" in result.stderr
    monkeypatch.setenv("SHORT", "abc")
    result = cli("user", "add", "hung", "--role", "approver", "--password-env", "SHORT", ok=False)
    assert result.exit_code != 0 and "at least 8" in result.stderr
    assert "hung" not in cli("user", "add", "mai", "--role", "approver").stdout
    with unit_of_work(services.sessions) as session:
        assert authenticate(session, "hung", "abc", now=services.now()) is None
