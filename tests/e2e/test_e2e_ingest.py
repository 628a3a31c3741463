"""Loading from the command line as a centre does: the portal feed (twice), old documents, a folder,
recordings, and the configured feeds polled; refusals are one line and change nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from e2e_support import APPROVER, EDITOR, approved_piece, at, setup_accounts
from sqlalchemy import select

from content.db import unit_of_work
from content.ingest.legacy import tcvn3_encode, vni_encode
from content.models import AuditEvent, FeedState
from loa.settings import load_settings
from loa.wiring import open_services

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content" / "ingest"))
from ingest_support import Answer, rss, running_server

PORTAL = Path(__file__).resolve().parents[1] / "data" / "portal-feed.xml"
NOW = at("08:00")


def one_line_error(result) -> str:
    assert result.exit_code != 0 and "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def pieces(cli) -> list[dict]:
    return cli.json("piece", "list", now=NOW)


def test_the_portal_feed_loads_as_drafts_once_and_goes_through_review(cli):
    setup_accounts(cli, NOW)
    first = cli("ingest", "feed", str(PORTAL), now=NOW, user=EDITOR).stdout
    assert first.splitlines()[-1] == f"{PORTAL}: 3 added, 0 skipped"
    assert "added piece 1 (draft): Hội nghị triển khai Kế hoạch chuyển đổi số năm 2027" in first
    second = cli.json("ingest", "feed", str(PORTAL), now=NOW, user=EDITOR)
    assert second["added"] == [] and len(second["skipped"]) == 3
    assert [p["state"] for p in pieces(cli)] == ["draft"] * 3
    cli("piece", "submit", "2", now=NOW, user=EDITOR)
    assert cli("piece", "approve", "2", now=NOW, user=APPROVER).stdout.strip() == "piece 2: approved"
    shown = cli.json("piece", "show", "2", now=NOW)
    assert "script" not in shown["body"] and "quangcao" not in shown["body"]


def test_old_documents_and_a_folder(cli, tmp_path):
    setup_accounts(cli, NOW)
    folder = tmp_path / "van-ban"
    folder.mkdir()
    (folder / "1-tcvn3.txt").write_bytes(tcvn3_encode("Thông báo\nLịch cắt điện thôn Đông ngày 25/11.\n"))
    (folder / "2-vni.txt").write_bytes(vni_encode("Họp dân\nTối thứ Sáu họp dân tại nhà văn hóa thôn.\n"))
    (folder / "3-hong.txt").write_bytes(b"\x00\x01\x02binary")
    result = cli("ingest", "folder", str(folder), now=NOW, user=EDITOR, ok=False)
    assert result.exit_code == 2
    assert "added piece 1 (draft): Thông báo  [converted from TCVN3 (ABC) to Unicode (NFC)]" in result.stdout
    assert "added piece 2 (draft): Họp dân  [converted from VNI to Unicode (NFC)]" in result.stdout
    assert result.stderr.strip() == (f"loa: error: {folder / '3-hong.txt'}: this is a binary file, not text "
                                     "(it contains NUL bytes)")
    assert cli.json("piece", "show", "1", now=NOW)["body"] == "Lịch cắt điện thôn Đông ngày 25/11."
    before = pieces(cli)
    error = one_line_error(cli("ingest", "file", str(folder / "2-vni.txt"), str(folder / "3-hong.txt"),
                               now=NOW, user=EDITOR, ok=False))
    assert error.endswith("3-hong.txt: this is a binary file, not text (it contains NUL bytes)")
    assert pieces(cli) == before


def test_a_recording_is_attached_and_a_fake_one_refused(cli, tmp_path):
    import io
    import wave

    setup_accounts(cli, NOW)
    piece = approved_piece(cli, "Thông báo", "Lịch tiêm chủng sáng thứ Bảy.", NOW)
    before = cli.json("piece", "show", str(piece), now=NOW)
    fake = tmp_path / "ghi-am.mp3"
    fake.write_text("không phải âm thanh", encoding="utf-8")
    error = one_line_error(cli("piece", "upload", str(piece), "--audio", str(fake), now=NOW, user=EDITOR, ok=False))
    assert error.startswith("loa: error: ghi-am.mp3: this is not a recording loa can play: decoding it failed")
    assert cli.json("piece", "show", str(piece), now=NOW) == before
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\x00\x10" * 12000)
    real = tmp_path / "ghi-am.wav"
    real.write_bytes(buffer.getvalue())
    done = cli("piece", "upload", str(piece), "--audio", str(real), now=NOW, user=EDITOR).stdout.strip()
    assert done == f"piece {piece}: revision 2 (draft) with audio ghi-am.wav (1.5 s)"
    after = cli.json("piece", "show", str(piece), now=NOW)
    assert (after["state"], after["revision"], after["approved_revision_id"]) == ("draft", 2,
                                                                                 before["approved_revision_id"])
    from PIL import Image

    Image.new("RGB", (3000, 1500), (10, 120, 60)).save(tmp_path / "anh.png")
    done = cli("piece", "upload", str(piece), "--image", str(tmp_path / "anh.png"), now=NOW, user=EDITOR).stdout
    assert done.strip() == f"piece {piece}: revision 3 (draft) with image anh.png (1920×960)"
    (tmp_path / "gia.png").write_text("không phải ảnh", encoding="utf-8")
    error = one_line_error(cli("piece", "upload", str(piece), "--image", str(tmp_path / "gia.png"), now=NOW,
                               user=EDITOR, ok=False))
    assert error.startswith("loa: error: gia.png: this is not an image loa can show: decoding it failed")
    assert one_line_error(cli("piece", "upload", str(piece), now=NOW, user=EDITOR, ok=False)) == (
        "loa: error: give --audio FILE or --image FILE (one of them)")


def test_configured_feeds_are_polled_with_etags_and_a_failing_feed_is_reported(cli, config_dir):
    with running_server() as server:
        def respond(headers):
            if headers.get("if-none-match") == '"v1"':
                return Answer(status=304)
            return Answer(rss(("Họp dân", "<p>Tối thứ Sáu họp dân.</p>")), headers={"ETag": '"v1"'})

        server.answers["/xa.rss"] = Answer(respond=respond)
        server.answers["/hong.rss"] = Answer("<html><body>Trang lỗi</body></html>".encode())
        toml = config_dir / "loa.toml"  # the test server is on this machine: allowed by name
        toml.write_text(toml.read_text(encoding="utf-8").replace('private_hosts = []', 'private_hosts = ["127.0.0.1"]'),
                        encoding="utf-8")
        with toml.open("a", encoding="utf-8") as handle:
            handle.write(f'\n[[feed]]\nurl = "{server.url("/xa.rss")}"\nevery_minutes = 30\nauthor = "{EDITOR}"\n'
                         f'\n[[feed]]\nurl = "{server.url("/hong.rss")}"\nauthor = "{EDITOR}"\n')
        setup_accounts(cli, NOW)
        first = cli("ingest", "poll", now=NOW, ok=False)
        assert first.exit_code == 2
        assert f"{server.url('/xa.rss')}: 1 added, 0 skipped" in first.stdout
        second = cli("ingest", "poll", now=NOW, ok=False)
        assert f"{server.url('/xa.rss')}: not modified since the last poll" in second.stdout
        assert len(pieces(cli)) == 1
    assert "hong.rss: this is not an RSS or Atom feed (it looks like an HTML page)" in second.stderr
    settings = load_settings(config_dir, database_url=cli.database_url or None, env={})
    with unit_of_work(open_services(settings).sessions) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("ingest.%"))
                                  .order_by(AuditEvent.id)).all()
        results = dict(session.execute(select(FeedState.url, FeedState.last_result)).all())
    assert actions == ["ingest.feed", "ingest.fail", "ingest.feed", "ingest.fail"]
    assert results[server.url("/xa.rss")] == "not modified"
    assert results[server.url("/hong.rss")].startswith("failed: ")


def test_a_feed_address_in_config_must_be_http(cli, config_dir):
    with (config_dir / "loa.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[feed]]\nurl = "file:///etc/passwd"\nauthor = "lan"\n')
    error = one_line_error(cli("init", now=NOW, ok=False))
    assert error == (f"loa: error: {config_dir / 'loa.toml'}: feed[0].url: 'file:///etc/passwd' is not an http or "
                     "https address")


def test_an_approved_image_goes_to_the_board_with_its_first_slide(cli, config_dir, tmp_path):
    """An uploaded image travels with its approved revision to the kiosk board, beside the piece's first slide."""
    import json

    from e2e_support import out_dir
    from PIL import Image

    early = at("05:00")
    setup_accounts(cli, early)
    piece = add_piece_for_board(cli, early)
    Image.new("RGB", (800, 600), (200, 30, 30)).save(tmp_path / "ngay-sach.png")
    cli("piece", "upload", str(piece), "--image", str(tmp_path / "ngay-sach.png"), now=early, user=EDITOR)
    cli("piece", "submit", str(piece), now=early, user=EDITOR)
    cli("piece", "approve", str(piece), now=early, user=APPROVER)
    cli("plan", "--days", "1", now=early)
    cli("dispatch", now=at("07:29"))

    board = json.loads((out_dir(config_dir) / "boards" / "99001" / "board.json").read_text("utf-8"))
    images = [slide["image"] for rotation in board["rotations"] for slide in rotation["slides"]
              if slide["title"] == "Ngày Sách có ảnh" and slide["image"]]
    assert len(images) == 1
    with Image.open(out_dir(config_dir) / "boards" / images[0]) as shown:
        assert shown.size == (800, 600)


def add_piece_for_board(cli, now: str) -> int:
    result = cli("piece", "add", "--title", "Ngày Sách có ảnh", "--body", "Mời bà con đến thư viện xã.",
                 "--channels", "board", now=now, user=EDITOR)
    return int(result.stdout.strip())
