"""Inputs an attacker or a slip of the keyboard sends: each gives one clear line (CLI) or a 4xx page (web),
never a traceback or a 500, and nothing stored changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.db import unit_of_work
from content.errors import ConfigError
from content.models import Piece, User
from loa.settings import load_settings

from servers.web import csrf_of


def _error_line(result) -> str:
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), f"a traceback: {result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--now", "9999-12-31T23:00", "plan"], "loa: error: --now: 9999-12-31 is outside the years loa works with"),
    (["--now", "0001-01-01T00:00", "plan"], "loa: error: --now: 0001-01-01 is outside the years loa works with"),
    (["--now", "9999-12-31T23:00", "schedule"], "loa: error: --now: 9999-12-31 is outside"),
    (["--now", "0001-01-01T00:00", "dispatch"], "loa: error: --now: 0001-01-01 is outside"),
    (["report", "--from", "0001-01-01", "--to", "0001-01-31"], "loa: error: --from: 0001-01-01 is outside"),
    (["report", "--from", "9999-12-01", "--to", "9999-12-31"], "loa: error: --from: 9999-12-01 is outside"),
    (["plan", "--from", "9999-12-31"], "loa: error: --from: 9999-12-31 is outside"),
    (["piece", "add", "--title", "T", "--body", "B", "--valid-until", "2150-01-01", "--as", "x"],
     "loa: error: --valid-until: 2150-01-01 is outside"),
    (["--db", "mysql://loa@localhost/loa", "piece", "list"],
     "loa: error: --db: loa runs on SQLite or PostgreSQL, not mysql"),
    (["--db", "khong-phai-url", "piece", "list"], "loa: error: --db: 'khong-phai-url' is not a database URL"),
    (["--db", "postgresql://[::1", "piece", "list"], "loa: error: --db: 'postgresql://[::1' is not a database URL"),
    (["piece", "show", "99999999999999999999"], "loa: error: no piece with id 99999999999999999999"),
    (["user", "add", "x", "--role", "editor", "--station", "00000"],
     "loa: error: --station: no station with code '00000' in "),
])
def test_the_command_line_answers_one_clear_line(cli, args, message):
    cli("init")
    assert _error_line(cli(*args, ok=False)).startswith(message)


def test_an_unknown_station_makes_no_account(cli, services):
    cli("init")
    cli("user", "add", "x", "--role", "editor", "--station", "00000", ok=False)
    with unit_of_work(services.sessions) as session:
        assert session.scalar(select(User).where(User.name == "x")) is None


@pytest.mark.parametrize("size", [[0, -1], [0, 1080], [1920, 100000]])
def test_a_board_image_size_that_cannot_be_drawn_is_refused_when_settings_load(config_dir: Path, size):
    toml = config_dir / "loa.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("board_image = [1920, 1080]", f"board_image = {size}"),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"loa\.toml: ingest\.board_image: .*is not a board size"):
        load_settings(config_dir, env={})


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/pieces/99999999999999999999", 404, "no piece with id 99999999999999999999"),
    ("/pieces/99999999999999999999/edit", 404, "no piece with id"),
    ("/calendar?week=9999-12-31", 400, "week: 9999-12-31 is outside the years loa works with"),
    ("/calendar?week=0001-01-01", 400, "week: 0001-01-01 is outside"),
    ("/reports?start=0001-01-01&end=0001-01-31", 400, "start: 0001-01-01 is outside"),
    ("/reports?start=9999-12-01&end=9999-12-31", 400, "start: 9999-12-01 is outside"),
    ("/reports/download?fmt=csv&start=9999-12-01&end=9999-12-31", 400, "is outside"),
])
def test_web_pages_answer_out_of_range_input_with_a_4xx_page(web, path, status, text):
    response = web.client("hung").get(path)
    assert response.status_code == status and text in response.text


@pytest.mark.parametrize("station", ["%00", "a%00b", "99001'--", "x" * 17])
def test_the_schedule_api_refuses_a_station_code_no_station_has(web, station):
    response = web.client().get(f"/api/schedule?station={station}", headers=web.token("hung"))
    assert response.status_code == 422 and "station" in response.text


def _pieces(web) -> int:
    with unit_of_work(web.services.sessions) as session:
        return session.scalar(select(func.count()).select_from(Piece))


@pytest.mark.parametrize("field", ["title", "body"])
def test_a_nul_character_in_a_piece_is_refused_naming_the_field(web, field):
    lan = web.client("lan")
    before = _pieces(web)
    fields = {"title": "Thông báo", "body": "Nội dung", "channels": "board", field: "Nội\x00dung"}
    page = lan.post("/pieces/new", data={"csrf": csrf_of(lan.get("/pieces/new").text), **fields})
    assert page.status_code == 400 and f"{field}: contains a NUL character" in page.text
    api = lan.post("/api/pieces", json={"title": "Thông báo", "body": "Nội dung", **{field: "a\x00b"}},
                   headers=web.token("lan"))
    assert api.status_code in (400, 422) and field in api.text
    assert _pieces(web) == before
