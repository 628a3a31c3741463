"""Days and times on the command line read as the app shows them (31/12/2026, 31/12/2026 06:00) as well as in
ISO; a wrong one is one line naming the option. Log lines carry the configured zone's time."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import MONDAY

TITLE = "Thông báo lịch tiêm chủng mở rộng"


def test_report_takes_day_first_dates_as_the_app_writes_them(cli):
    cli("init")
    report = cli.json("report", "--from", "01/11/2026", "--to", "30/11/2026")
    assert (report["from"], report["to"]) == ("2026-11-01", "2026-11-30")
    assert cli.json("report", "--from", "2026-11-01", "--to", "2026-11-30") == report


def test_plan_from_a_day_first_date_plans_that_day(cli):
    cli("init")
    planned = cli.json("plan", "--from", "25/11/2026", "--days", "1", now=MONDAY)
    assert planned["first_day"] == planned["last_day"] == "2026-11-25"


def test_piece_validity_takes_day_first_dates_and_times(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    piece = cli("piece", "add", "--title", TITLE, "--body", "Mời bà con.", "--valid-from", "01/12/2026 06:30",
                "--valid-until", "31/12/2026", user="bien-tap").stdout.strip()
    shown = cli.json("piece", "show", piece)
    # a day alone for --valid-until means the whole of that day, to the next local midnight
    assert (shown["valid_from"], shown["valid_until"]) == ("2026-12-01T06:30:00+07:00", "2027-01-01T00:00:00+07:00")
    # printed as the web page and the forms write them (--json keeps ISO): a whole day is that day
    assert "valid: 01/12/2026 06:30 → 31/12/2026  sha256:" in cli("piece", "show", piece).stdout
    cli("piece", "edit", piece, "--valid-from", "2026-12-02", user="bien-tap")
    assert cli.json("piece", "show", piece)["valid_from"] == "2026-12-02T00:00:00+07:00"


def test_a_wrong_date_is_one_line_naming_the_option_and_both_forms(cli):
    cli("init")
    for args, option in ((["report", "--from", "31/02/2026", "--to", "01/03/2026"], "--from"),
                         (["plan", "--from", "2026-13-01"], "--from"),
                         (["audit", "list", "--since", "31/12/2026 25:00"], "--since")):
        result = cli(*args, ok=False)
        assert result.exit_code == 2 and "Traceback" not in result.stderr, result.stderr
        line = result.stderr.strip()
        assert "\n" not in line and line.startswith(f"loa: error: {option}: '"), line
        assert "31/12/2026" in line and "2026-12-31" in line, line


def test_log_lines_are_stamped_in_the_configured_zone_whatever_the_host_zone():
    code = ("import logging, zoneinfo; from loa.logs import configure_logging; "
            "configure_logging(zoneinfo.ZoneInfo('Asia/Ho_Chi_Minh')); logging.getLogger('loa.x').warning('xin chào')")
    before = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"TZ": "UTC", "PATH": "/usr/bin:/bin"}, check=True)
    line = done.stderr.strip()
    assert line.endswith("WARNING loa.x: xin chào"), line
    stamp = datetime.strptime(line[:29], "%Y-%m-%d %H:%M:%S,%f%z")
    assert line[23:29] == "+07:00", line
    assert abs((stamp - before).total_seconds()) < 60, (line, before)
