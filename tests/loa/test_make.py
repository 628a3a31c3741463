"""The README's test command sets the machine up first and fails when a test fails; CI's script runs just it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_pytest_exits_non_zero_when_a_test_fails(tmp_path):
    failing = tmp_path / "test_fails.py"
    failing.write_text("def test_fails():\n    assert 1 + 1 == 3\n")
    result = subprocess.run(["make", "-s", "pytest", "PYTEST_WORKERS=0", f"PYTEST_ARGS={failing} -p no:cacheprovider"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "1 failed" in result.stdout


def test_ci_script_runs_make_test_and_passes_its_failure_on(tmp_path):
    fake = tmp_path / "make"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\nexit 3\n")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(ROOT / ".ci" / "run")], capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 3
    assert (tmp_path / "args").read_text().split() == ["test"]


# --- scripts/test-setup.sh, which `make test` runs first, against fake system commands (apt is never run) -----
SETUP = ROOT / "scripts" / "test-setup.sh"


def fake_system(tmp_path: Path, *, uid: int, missing: set[str]) -> dict[str, str]:
    """A PATH where dpkg-query says ``missing`` are not installed, ``id -u`` says ``uid``, apt-get records its
    calls in ``apt.log``, and PostgreSQL and MariaDB answer."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    scripts = {
        "id": f'[ "$1" = -u ] && echo {uid} || exec /usr/bin/id "$@"',
        "dpkg-query": f'pkg="${{@: -1}}"; case " {" ".join(sorted(missing))} " in *" $pkg "*) exit 1;; esac; '
                      'printf "install ok installed"',
        "apt-get": f'echo "$@" >> {tmp_path / "apt.log"}',
        "pg_isready": "exit 0",
        "mariadb-admin": "exit 0",
        "mariadb": "exit 0",
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    environ = {k: v for k, v in os.environ.items() if k != "LOA_TEST_POSTGRES_URL"}
    return {**environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def apt_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "apt.log"
    return log.read_text().splitlines() if log.exists() else []


def test_make_test_sets_the_machine_up_before_anything_else():
    # as a user types it, not as a sub-make of the make test running this suite
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    steps = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True,
                           env=env).stdout
    lines = steps.splitlines()
    setup = next(n for n, line in enumerate(lines) if "scripts/test-setup.sh" in line)
    lint = next(n for n, line in enumerate(lines) if "bin/ruff" in line)
    first_pytest = next(n for n, line in enumerate(lines) if "bin/pytest" in line)
    assert setup < lint < first_pytest, steps


def test_setup_without_root_prints_the_one_install_line_and_stops(tmp_path):
    env = fake_system(tmp_path, uid=1000, missing={"icecast2", "wordpress"})
    result = subprocess.run(["bash", str(SETUP)], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    commands = [line for line in result.stderr.splitlines() if "apt-get" in line]
    assert commands == ["sudo apt-get install -y --no-install-recommends icecast2 wordpress"]
    assert apt_calls(tmp_path) == []


def test_setup_as_root_installs_only_what_is_missing_after_one_update(tmp_path):
    env = fake_system(tmp_path, uid=0, missing={"chromium", "php-mysql"})
    result = subprocess.run(["bash", str(SETUP)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "installing the Debian packages the tests need: php-mysql chromium" in result.stdout
    assert apt_calls(tmp_path) == ["update -qq", "install -y -qq --no-install-recommends php-mysql chromium"]


def test_setup_changes_nothing_when_everything_is_there(tmp_path):
    env = fake_system(tmp_path, uid=0, missing=set())
    result = subprocess.run(["bash", str(SETUP)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert apt_calls(tmp_path) == []
    assert result.stdout.strip().endswith("ready (Debian packages installed, PostgreSQL and MariaDB answering)")


def test_setup_without_root_says_how_to_start_a_database_that_is_down(tmp_path):
    env = fake_system(tmp_path, uid=1000, missing=set())
    (tmp_path / "bin" / "pg_isready").write_text("#!/bin/bash\nexit 2\n")
    result = subprocess.run(["bash", str(SETUP)], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "PostgreSQL is not answering on 127.0.0.1:5432" in result.stderr and "sudo pg_ctlcluster" in result.stderr
