"""Helpers for the emergency tests: stations whose loudspeaker and board POST to test receivers.

Not a test module; the emergency tests import it by name.
"""

from __future__ import annotations

from pathlib import Path

from servers.outbox_world import SECRET_ENV

#: How long a push waits for a receiver of these worlds unless a test says otherwise.
RECEIVER_TIMEOUT_S = 10.0


def write_stations(config_dir: Path, stations: dict[str, tuple[str, str]], *, timeouts: dict[str, float] | None = None,
                   roles: list[str] | None = None, outlets: dict[str, str] | None = None) -> None:
    """``stations``: code → (receiver URL, group); each with an http loudspeaker and an http board, unless
    ``outlets`` (outlet → TOML inline table) says otherwise (and adds, e.g., a portal)."""
    lines = ["[dispatch]", "max_attempts = 4", "retry_base_s = 60", "breaker_failures = 10",
             "emergency_retry_s = 5.0"]
    if roles is not None:
        lines += ["[emergency]", "roles = [" + ", ".join(f'"{r}"' for r in roles) + "]"]
    (config_dir / "loa.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = []
    for code, (url, group) in stations.items():
        # Receivers answer at once; a second was too tight on a loaded 2-core machine (a 400 read as a timeout).
        # A test of a hanging endpoint names its own shorter timeout.
        timeout = (timeouts or {}).get(code, RECEIVER_TIMEOUT_S)
        outlet = (f'{{ type = "http", url = "{url}", secret_env = "{SECRET_ENV}", timeout_s = {timeout}, '
                  f'connect_timeout_s = {timeout}, media_url = "http://loa.test/media" }}')
        tables = {"board": outlet, "loudspeaker": outlet, **(outlets or {})}
        out.append(f'[[station]]\ncode = "{code}"\nname = "Xã {code}"\ngroups = ["{group}"]\n'
                   + "".join(f"{name} = {table}\n" for name, table in tables.items()))
    (config_dir / "stations.toml").write_text("\n".join(out), encoding="utf-8")
    (config_dir / "schedule.toml").write_text("", encoding="utf-8")
