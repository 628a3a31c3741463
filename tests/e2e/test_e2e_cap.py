"""CAP alerts end to end: imported from a file by an approver, polled from a local server as a trusted or untrusted
feed; alert, update, cancel; an area with no stations, an invalid message and an unknown sender store nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from e2e_support import APPROVER, EDITOR, at, moment, setup_accounts
from sqlalchemy import func, select

from content.db import unit_of_work
from content.ingest.cap import parse_alert
from content.models import AuditEvent, FeedState
from loa.settings import load_settings
from loa.wiring import open_services
from scheduler.emergencies.cap_intake import plan_intake, receive
from scheduler.models import Emergency, EmergencyDelivery

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content" / "ingest"))
from ingest_support import Answer, make_certificate, running_server

DATA = Path(__file__).resolve().parents[1] / "data" / "cap"
NOW = at("08:30")
LU = "canh-bao@dai-kttv.minh-hoa.vn"
GEOCODES = "".join(f'[[geocode]]\nvalue_name = "{name}"\nvalue = "{value}"\nstations = ["{stations}"]\n\n'
                   for name, value, stations in (("MA_XA", "99001", "99001"), ("MA_XA", "99002", "99002"),
                                                 ("MA_XA", "99003", "99003"), ("MA_HUYEN", "999", "demo"),
                                                 ("SAME", "006109", "99003")))


def write_geocodes(config_dir: Path) -> None:
    (config_dir / "geocodes.toml").write_text(GEOCODES, encoding="utf-8")


def emergencies(cli) -> list[tuple]:
    services = open_services(load_settings(cli.config_dir, env={"LOA_DATABASE_URL": cli.database_url}
                                           if cli.database_url else {}))
    try:
        with unit_of_work(services.sessions) as session:
            return [(e.id, e.state, e.cap_identifier, tuple(e.stations), e.replaced_by, e.source, e.issued_by)
                    for e in session.scalars(select(Emergency).order_by(Emergency.id))]
    finally:
        services.close()


def test_alert_update_and_cancel_from_files(cli, config_dir):
    write_geocodes(config_dir)
    setup_accounts(cli, NOW)
    alert = cli("alert", "import", str(DATA / "lu-alert.xml"), now=NOW, user=APPROVER).stdout
    assert ("Đã lưu bản nháp cảnh báo khẩn cấp số 1, chờ người có quyền bấm gửi, tới 2 xã: 99001 Xã Tân Lập, "
            "99002 Xã Hòa Bình") in alert
    assert "Gửi bản nháp: loa emergency confirm 1" in alert
    assert emergencies(cli) == [(1, "draft", f"{LU},LU-2026-11-23-01", ("99001", "99002"), None, "cap", APPROVER)]
    again = cli("alert", "import", str(DATA / "lu-alert.xml"), now=NOW, user=APPROVER).stdout
    assert "Ghi chú: tin này đã nhận trước đây: không làm gì thêm" in again and len(emergencies(cli)) == 1

    update = cli.json("alert", "import", str(DATA / "lu-update.xml"), now=at("10:05"), user=APPROVER)
    assert (update["action"], update["emergency"], update["replaced"], update["draft"]) == ("replace", 2, [1], True)
    assert emergencies(cli) == [
        (1, "cleared", f"{LU},LU-2026-11-23-01", ("99001", "99002"), 2, "cap", APPROVER),
        (2, "draft", f"{LU},LU-2026-11-23-02", ("99001", "99002", "99003"), None, "cap", APPROVER)]

    cancel = cli("alert", "import", str(DATA / "lu-cancel.xml"), now=at("16:05"), user=APPROVER).stdout
    assert "Đã kết thúc cảnh báo số 2" in cancel
    assert [row[1] for row in emergencies(cli)] == ["cleared", "cleared"]
    twice = cli("alert", "import", str(DATA / "lu-cancel.xml"), now=at("16:06"), user=APPROVER).stdout
    assert "không có cảnh báo nào đang chờ hay đang phát" in twice


def test_importing_needs_the_emergency_right(cli, config_dir):
    write_geocodes(config_dir)
    setup_accounts(cli, NOW)
    result = cli("alert", "import", str(DATA / "lu-alert.xml"), now=NOW, user=EDITOR, ok=False)
    assert result.exit_code == 4 and result.stderr.startswith("loa: lỗi: ")
    assert emergencies(cli) == []


def test_the_oasis_examples_alert_and_cancel(services, config_dir):
    """The OASIS thunderstorm alert, with one of its SAME codes mapped to a commune here, then its cancel."""
    write_geocodes(config_dir)
    settings = load_settings(config_dir, env=dict(services.settings.env))
    during = parse_alert((DATA / "oasis-thunderstorm-alert.xml").read_bytes(), where="2").sent.replace(minute=59)
    table = settings.geocode_table()
    for name in ("oasis-thunderstorm-alert.xml", "oasis-earthquake-update.xml", "oasis-homeland-alert.xml",
                 "oasis-thunderstorm-cancel.xml"):
        intake = plan_intake(parse_alert((DATA / name).read_bytes(), where=name), table, now=during)
        with unit_of_work(services.sessions) as session:
            receive(session, intake, trusted=True, actor=None, now=during)
    with unit_of_work(services.sessions) as session:
        rows = [(e.state, e.cap_identifier, e.stations, e.title, e.issued_by)
                for e in session.scalars(select(Emergency))]
        pushes = {row.station.code for row in session.scalars(select(EmergencyDelivery))}
    # the storm went out to 99003 (trusted) and its cancel ended it; the earthquake and the homeland alert reach
    # no commune here, so nothing was issued for them
    assert rows == [("cleared", "KSTO@NWS.NOAA.GOV,KSTO1055887203", ["99003"], "SEVERE THUNDERSTORM WARNING",
                     "system")]
    assert pushes == {"99003"}


def test_an_area_with_no_stations_and_an_invalid_message_store_nothing(cli, config_dir):
    write_geocodes(config_dir)
    setup_accounts(cli, NOW)
    with_no_station = (DATA / "lu-alert.xml").read_text(encoding="utf-8").replace("99001", "12345").replace(
        "99002", "12346")
    path = config_dir.parent / "xa-khac.xml"
    path.write_text(with_no_station, encoding="utf-8")
    out = cli("alert", "import", str(path), now=NOW, user=APPROVER).stdout
    assert "Lý do: vùng cảnh báo không có xã nào trong geocodes.toml\nKhông phát gì" in out
    assert "Mã vùng không có trong geocodes.toml: MA_XA 12345, MA_XA 12346" in out
    before = audit_count(cli)
    invalid = cli("alert", "import", str(DATA / "invalid-msgtype.xml"), now=NOW, user=APPROVER, ok=False)
    assert invalid.exit_code == 2 and "dòng 8: thẻ <msgType> không thể là “Warning”" in invalid.stderr
    assert emergencies(cli) == [] and audit_count(cli) == before


def audit_count(cli) -> int:
    services = open_services(load_settings(cli.config_dir, env={"LOA_DATABASE_URL": cli.database_url}
                                           if cli.database_url else {}))
    try:
        with unit_of_work(services.sessions) as session:
            return session.scalar(select(func.count(AuditEvent.id)))
    finally:
        services.close()


def test_feeds_polled_from_a_local_server(cli, config_dir):
    write_geocodes(config_dir)
    with running_server() as server:
        body = (DATA / "lu-alert.xml").read_bytes()
        server.answers["/trusted.xml"] = Answer(respond=lambda headers: Answer(b"", 304) if headers.get(
            "if-none-match") == '"1"' else Answer(body, headers={"ETag": '"1"'}))
        server.answers["/draft.xml"] = Answer((DATA / "lu-update.xml").read_bytes())
        server.answers["/stranger.xml"] = Answer((DATA / "oasis-amber-alert.xml").read_bytes())
        path = config_dir / "loa.toml"
        text = path.read_text(encoding="utf-8").replace("private_hosts = []", 'private_hosts = ["127.0.0.1"]')
        for name, trusted, repeat in (("trusted", "true", 15), ("draft", "false", 15), ("stranger", "true", 15)):
            text += (f'\n[[alert_feed]]\nname = "{name}"\nurl = "{server.url(f"/{name}.xml")}"\ntrusted = {trusted}\n'
                     f'senders = ["{LU}"]\nrepeat_every_minutes = {repeat}\n')
        path.write_text(text, encoding="utf-8")
        setup_accounts(cli, NOW)
        result = cli("alert", "poll", now=moment("08:30").isoformat(), ok=False)
        assert result.exit_code == 2
        assert ("trusted: Đã phát cảnh báo khẩn cấp số 1 tới 2 xã: 99001 Xã Tân Lập, 99002 Xã Hòa Bình"
                in result.stdout)
        # the update names the alert the trusted feed sent, but comes from a feed not trusted: it waits as a draft
        # while the alert stays on air (an untrusted feed never puts anything on air)
        assert "draft: Ghi chú: nguồn tin chưa được tin cậy: bản cập nhật nằm chờ" in result.stdout
        assert result.stderr.startswith("loa: lỗi: stranger: Nơi gửi “KARO@CLETS.DOJ.CA.GOV” không nằm trong")
        assert [row[:2] for row in emergencies(cli)] == [(1, "active"), (2, "draft")]
        second = cli("alert", "poll", now=moment("08:32").isoformat(), ok=False).stdout
        assert "trusted: không có tin mới" in second  # 304 for the ETag it sent
        assert "draft: Ghi chú: tin này đã nhận trước đây: không làm gì thêm" in second  # no ETag: read, known
    services = open_services(load_settings(config_dir, env={"LOA_DATABASE_URL": cli.database_url}
                                           if cli.database_url else {}))
    try:
        with unit_of_work(services.sessions) as session:
            emergency = session.get(Emergency, 2)
            assert emergency.repeat_every_s == 15 * 60 and emergency.issued_by == "system"
            assert set(emergency.stations) == {"99001", "99002", "99003"}
            assert session.scalars(select(EmergencyDelivery).where(EmergencyDelivery.emergency_id == 2)).all() == []
            failed = session.scalar(select(FeedState).where(FeedState.url.endswith("/stranger.xml")))
            assert failed.last_result.startswith("failed: ")
    finally:
        services.close()


def test_a_feed_that_requires_a_signature_takes_signed_messages_only(services, config_dir):
    """Signed with the key of the certificate the feed names: a draft (untrusted feed); unsigned: refused."""
    from lxml import etree
    from signxml import XMLSigner

    from loa.alerts import poll_alert_feed

    write_geocodes(config_dir)
    key, cert = make_certificate("Đài KTTV minh họa")
    (config_dir / "kttv.pem").write_bytes(cert)
    plain = (DATA / "lu-alert.xml").read_bytes()
    signed = etree.tostring(XMLSigner().sign(etree.fromstring(plain), key=key, cert=cert))
    with running_server() as server:
        server.answers["/signed.xml"] = Answer(signed)
        server.answers["/plain.xml"] = Answer(plain)
        path = config_dir / "loa.toml"
        text = path.read_text(encoding="utf-8").replace("private_hosts = []", 'private_hosts = ["127.0.0.1"]')
        for name in ("signed", "plain"):
            text += (f'\n[[alert_feed]]\nname = "{name}"\nurl = "{server.url(f"/{name}.xml")}"\n'
                     f'require_signature = true\ncertificates = ["config/kttv.pem"]\n')
        path.write_text(text, encoding="utf-8")
        settings = load_settings(config_dir, env=dict(services.settings.env))
        polled = open_services(settings, now=moment("08:30"))
        try:
            refused = poll_alert_feed(polled, settings.alert_feed("plain"))
            assert "this feed requires a signature" in str(refused)
            received = poll_alert_feed(polled, settings.alert_feed("signed"))
            assert received.issued is not None and received.draft
            with unit_of_work(polled.sessions) as session:
                assert [(e.state, e.stations) for e in session.scalars(select(Emergency))] == [
                    ("draft", ["99001", "99002"])]
        finally:
            polled.close()
