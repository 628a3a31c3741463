"""The global options (--config, --db, --json, --now, --as) work after a command and a sub-command as well as
before it, and a command's own words are never taken for them."""

from __future__ import annotations

import json

import pytest

from loa.cli.app import app

TITLE = "Thông báo lịch tiêm chủng mở rộng"
BODY = "Trạm y tế xã tổ chức tiêm chủng cho trẻ em vào sáng thứ Bảy, ngày 28/11/2026."


@pytest.fixture
def loa(cli):
    """``loa`` with exactly the words given (no options added in front), on the suite's database."""
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")

    def run(*args: str, ok: bool = True):
        result = cli.runner.invoke(app, list(args), env={"LOA_DATABASE_URL": cli.database_url, "LOA_NOW": "",
                                                         "LOA_USER": "", "LOA_CONFIG": ""})
        if ok:
            assert result.exit_code == 0, (args, result.stdout, result.stderr, result.exception)
        return result

    run.config = str(cli.config_dir)
    return run


def test_now_and_json_after_the_command_mean_what_they_mean_before_it(loa):
    now = "2026-11-23T05:55"
    before = loa("--config", loa.config, "--now", now, "--json", "dispatch")
    after = loa("dispatch", "--now", now, "--json", "--config", loa.config)
    mixed = loa("--config", loa.config, "dispatch", "--now=" + now, "--json")
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(mixed.stdout)
    text = loa("dispatch", "--config", loa.config, "--now", now)
    assert text.stdout.startswith("gửi đi:")  # no --json: the text for people, in Vietnamese by default


def test_as_and_json_after_a_sub_command(loa):
    added = loa("piece", "add", "--title", TITLE, "--body", BODY, "--as", "bien-tap", "--config", loa.config)
    piece_id = added.stdout.strip()
    assert piece_id.isdigit()
    shown = json.loads(loa("piece", "show", piece_id, "--json", "--config", loa.config).stdout)
    assert (shown["title"], shown["author"]) == (TITLE, "bien-tap")

    subject = f"piece:{piece_id}"
    before = json.loads(loa("--config", loa.config, "--json", "audit", "list", "--subject", subject).stdout)
    after = json.loads(loa("audit", "list", "--subject", subject, "--json", "--config", loa.config).stdout)
    between = json.loads(loa("audit", "--json", "list", "--config", loa.config, "--subject", subject).stdout)
    assert before == after == between
    assert [entry["actor"] for entry in after] == ["bien-tap"]


def test_a_value_that_looks_like_a_global_option_stays_the_commands(loa):
    added = loa("piece", "add", "--title", "--json", "--body", BODY, "--as", "bien-tap", "--config", loa.config)
    piece_id = added.stdout.strip()
    assert piece_id.isdigit()  # a plain id: "--json" was the title, not the flag
    shown = json.loads(loa("--json", "--config", loa.config, "piece", "show", piece_id).stdout)
    assert shown["title"] == "--json"
    after_dashes = loa("piece", "add", "--config", loa.config, "--as", "bien-tap", "--title", "x", "--", "--json",
                       ok=False)
    assert after_dashes.exit_code != 0 and "--json" in after_dashes.stderr  # after "--" nothing is an option


def test_an_unknown_option_is_still_refused_in_one_line(loa):
    result = loa("dispatch", "--config", loa.config, "--later", "5", ok=False)
    assert result.exit_code == 2
    assert "Không có tuỳ chọn --later" in result.stderr  # click's words too, in the command line's language
    assert "Traceback" not in result.stderr
