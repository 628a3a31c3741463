"""CAP alerts at the shell: the geocode table and [[alert_feed]] settings, ``loa alert import --dry-run`` in
Vietnamese, refusals that store nothing, and a feed polled from a local server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from content.db import unit_of_work
from content.errors import ConfigError, InputError
from content.models import AuditEvent, FeedState
from loa.alerts import fetch_alert
from loa.settings import load_settings

from conftest import MONDAY

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content" / "ingest"))
from ingest_support import Answer, running_server

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
NOW = MONDAY.replace(hour=8, minute=30)
#: The demo's communes by illustrative commune (MA_XA) and district (MA_HUYEN) codes.
GEOCODES = "".join(f'[[geocode]]\nvalue_name = "{name}"\nvalue = "{value}"\nstations = ["{stations}"]\n\n'
                   for name, value, stations in (("MA_XA", "99001", "99001"), ("MA_XA", "99002", "99002"),
                                                 ("MA_XA", "99003", "99003"), ("MA_HUYEN", "999", "demo")))


@pytest.fixture(autouse=True)
def geocodes(config_dir: Path) -> None:
    (config_dir / "geocodes.toml").write_text(GEOCODES, encoding="utf-8")


def add_feed(config_dir: Path, text: str) -> None:
    with (config_dir / "loa.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[[alert_feed]]\n" + text)


def allow_local(config_dir: Path) -> None:
    path = config_dir / "loa.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('private_hosts = []', 'private_hosts = ["127.0.0.1"]'),
                    encoding="utf-8")


def test_the_geocode_table_reaches_codes_groups_and_star(config_dir):
    (config_dir / "geocodes.toml").write_text(
        '[[geocode]]\nvalue_name = "MA_XA"\nvalue = "99001"\nstations = ["99001"]\n\n'
        '[[geocode]]\nvalue_name = "MA_HUYEN"\nvalue = "999"\nstations = ["vung-thap"]\n\n'
        '[[geocode]]\nvalue_name = "MA_TINH"\nvalue = "99"\nstations = ["*"]\n', encoding="utf-8")
    table = load_settings(config_dir, env={}).geocode_table()
    assert table == {("MA_XA", "99001"): ("99001",), ("MA_HUYEN", "999"): ("99001", "99002"),
                     ("MA_TINH", "99"): ("*",)}


@pytest.mark.parametrize(("geocodes", "feed", "message"), [
    ('[[geocode]]\nvalue_name = "MA_XA"\nvalue = "1"\nstations = ["99009"]\n', "",
     "geocodes.toml: geocode[0].stations: no station or group '99009' in stations.toml"),
    ('[[geocode]]\nvalue_name = "MA_XA"\nvalue = "1"\nstations = ["99001"]\n\n'
     '[[geocode]]\nvalue_name = "MA_XA"\nvalue = "1"\nstations = ["99002"]\n', "",
     "geocodes.toml: geocode[1]: MA_XA '1' is listed twice"),
    ('[[geocode]]\nvalue_name = "MA_XA"\nvalue = "1"\nstations = []\n', "",
     "geocodes.toml: geocode[0].stations: Tuple should have at least 1 item after validation, not 0"),
    ("", 'name = "kttv"\nurl = "https://kttv.example/cap.xml"\nrequire_signature = true\n',
     "loa.toml: alert_feed[0]: require_signature needs `certificates`, the PEM files of the sender's signing keys"),
    ("", 'name = "kttv"\nurl = "https://kttv.example/cap.xml"\ncertificates = ["config/cap/none.pem"]\n',
     "loa.toml: alert_feed[0].certificates: no file"),
    ("", 'name = "kttv"\nurl = "file:///etc/cap.xml"\n',
     "loa.toml: alert_feed[0].url: 'file:///etc/cap.xml' is not an http or https address"),
])
def test_wrong_alert_settings_are_refused_at_load(config_dir, geocodes, feed, message):
    if geocodes:
        (config_dir / "geocodes.toml").write_text(geocodes, encoding="utf-8")
    if feed:
        add_feed(config_dir, feed)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env={})
    assert message in str(caught.value)


def test_dry_run_says_in_vietnamese_which_communes_would_hear_it(cli):
    out = cli("alert", "import", str(DATA / "lu-alert.xml"), "--dry-run", now=NOW).stdout.splitlines()
    assert out == [
        "Tin CAP canh-bao@dai-kttv.minh-hoa.vn,LU-2026-11-23-01 (cảnh báo mới, gửi lúc 23/11/2026 08:00)",
        "Tiêu đề: Cảnh báo lũ trên sông Minh",
        "Mức độ: nghiêm trọng; khẩn cấp: cần làm ngay; độ chắc chắn: nhiều khả năng xảy ra",
        "Vùng: Xã Tân Lập và xã Hòa Bình",
        "Sẽ phát khẩn cấp (bản nháp, chờ người duyệt bấm gửi) tới 2 xã: 99001 Xã Tân Lập, 99002 Xã Hòa Bình",
        "Đến: 23/11/2026 20:00",
        "Nội dung: Đêm nay mực nước sông Minh lên trên báo động 3. Bà con di chuyển người và tài sản lên vùng cao "
        "trước 18 giờ.",
        "(chạy thử: chưa lưu gì)",
    ]
    shown = cli.json("alert", "import", str(DATA / "lu-update.xml"), "--dry-run", now=NOW)
    assert shown["action"] == "replace" and shown["targets"] == ["99001", "99002", "99003"] and shown["draft"]


def test_an_area_with_no_stations_is_said_and_nothing_issued(cli):
    during = "2003-06-17T15:00:00-07:00"
    out = cli("alert", "import", str(DATA / "oasis-thunderstorm-alert.xml"), "--dry-run", now=during).stdout
    assert "Mã vùng không có trong geocodes.toml: SAME 006109, SAME 006009, SAME 006003" in out
    assert "Lý do: vùng cảnh báo không có xã nào trong geocodes.toml\nKhông phát gì\n" in out
    shown = cli.json("alert", "import", str(DATA / "oasis-homeland-alert.xml"), "--dry-run", now=during)
    assert (shown["action"], shown["reason"], shown["targets"]) == ("none", "no_stations", [])


def audit_count(cli) -> int:
    services = load_settings(cli.config_dir, env={"LOA_DATABASE_URL": cli.database_url} if cli.database_url else {})
    from loa.wiring import open_services

    opened = open_services(services)
    try:
        with unit_of_work(opened.sessions) as session:
            return session.scalar(select(func.count(AuditEvent.id)))
    finally:
        opened.close()


def test_an_invalid_message_is_one_vietnamese_line_naming_line_and_element(cli):
    cli("init")
    before = audit_count(cli)
    result = cli("alert", "import", str(DATA / "invalid-msgtype.xml"), "--dry-run", now=NOW, ok=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (f"loa: lỗi: {DATA / 'invalid-msgtype.xml'}: dòng 8: thẻ <msgType> không thể là "
                             "“Warning”; CAP 1.2 chỉ nhận Alert hoặc Update hoặc Cancel hoặc Ack hoặc Error\n")
    assert audit_count(cli) == before


def test_an_unknown_sender_is_refused_when_the_feed_lists_its_senders(cli, config_dir):
    add_feed(config_dir, 'name = "kttv"\nurl = "https://kttv.example/cap.xml"\nsenders = ["kttv@example.vn"]\n')
    result = cli("alert", "import", str(DATA / "lu-alert.xml"), "--feed", "kttv", "--dry-run", now=NOW, ok=False)
    assert result.exit_code == 2
    assert "Nơi gửi “canh-bao@dai-kttv.minh-hoa.vn” không nằm trong danh sách" in result.stderr
    missing = cli("alert", "import", str(DATA / "lu-alert.xml"), "--feed", "vtv", "--dry-run", now=NOW, ok=False)
    assert "Không có nguồn cảnh báo [[alert_feed]] nào tên “vtv”" in missing.stderr


def test_a_feed_is_polled_from_a_local_server_and_an_unchanged_answer_is_skipped(config_dir, services):
    with running_server() as server:
        body = (DATA / "lu-alert.xml").read_bytes()

        def answer(headers: dict[str, str]) -> Answer:
            if headers.get("if-none-match") == '"v1"':
                return Answer(b"", 304)
            return Answer(body, headers={"ETag": '"v1"', "Content-Type": "application/cap+xml"})

        server.answers["/cap.xml"] = Answer(respond=answer)
        server.answers["/other.xml"] = Answer(body)
        add_feed(config_dir, f'name = "kttv"\nurl = "{server.url("/cap.xml")}"\ntrusted = true\n'
                             f'senders = ["canh-bao@dai-kttv.minh-hoa.vn"]\n')
        add_feed(config_dir, f'name = "khac"\nurl = "{server.url("/other.xml")}"\nsenders = ["kttv@example.vn"]\n')
        allow_local(config_dir)
        settings = load_settings(config_dir, env=dict(services.settings.env))
        kttv, other = settings.alert_feed("kttv"), settings.alert_feed("khac")
        with unit_of_work(services.sessions) as session:
            intake = fetch_alert(session, kttv, settings, now=NOW)
        assert intake is not None and intake.action == "issue" and intake.targets == ("99001", "99002")
        with unit_of_work(services.sessions) as session:
            assert fetch_alert(session, kttv, settings, now=NOW) is None  # 304: nothing new
            state = session.scalar(select(FeedState).where(FeedState.url == kttv.url))
            assert (state.etag, state.last_result) == ('"v1"', "not modified")
        assert [headers.get("if-none-match") for _, headers in server.requests] == [None, '"v1"']
        with pytest.raises(InputError, match="is not one this feed accepts"), unit_of_work(services.sessions) as s:
            fetch_alert(s, other, settings, now=NOW)


def test_each_alert_feed_gets_an_interval_job_that_runs_first_at_start(config_dir):
    from datetime import timedelta

    from apscheduler.schedulers.background import BackgroundScheduler

    from loa.alerts import add_alert_feed_jobs
    from loa.wiring import open_services

    add_feed(config_dir, 'name = "kttv"\nurl = "https://kttv.example/cap.xml"\nevery_minutes = 1\n')
    add_feed(config_dir, 'name = "tinh"\nurl = "https://tinh.example/cap.xml"\n')
    services = open_services(load_settings(config_dir, env={}))
    scheduler = BackgroundScheduler(timezone=MONDAY.tzinfo)
    assert add_alert_feed_jobs(scheduler, services, first_run=MONDAY) == 2
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["alert-feed-kttv", "alert-feed-tinh"]
    assert jobs["alert-feed-kttv"].trigger.interval == timedelta(minutes=1)
    assert jobs["alert-feed-tinh"].trigger.interval == timedelta(minutes=2)
    assert jobs["alert-feed-kttv"].name == "poll alerts https://kttv.example/cap.xml"
    services.close()


def test_every_reason_and_note_has_its_vietnamese_words():
    from loa import alert_words
    from scheduler.emergencies import cap_intake

    assert set(alert_words.REASONS) == set(cap_intake.REASONS)
    assert set(alert_words.NOTES) == set(cap_intake.NOTES)
