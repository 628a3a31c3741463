"""Loading documents: .txt in legacy encodings, .md, .docx (also typed in a VNI font), .csv in bulk and
folders; a refused file names itself and the line, and stores nothing."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import docx
import pytest
from ingest_support import make_accounts, snapshot, user
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.ingest.files import folder_files, ingest_files
from content.ingest.legacy import tcvn3_encode, vni_encode, windows1258_encode
from content.models import Piece, PieceState

from conftest import ZONE

TITLE = "Thông báo lịch tiêm chủng mở rộng"
BODY = "Trạm y tế xã tổ chức tiêm chủng cho trẻ em vào sáng thứ Bảy.\nĐề nghị các gia đình đưa trẻ đến đúng giờ."
TEXT = f"{TITLE}\n{BODY}\n"


@pytest.fixture
def desk(services):
    make_accounts(services)
    return services


def load(services, *paths: Path, **kwargs):
    with unit_of_work(services.sessions) as session:
        return ingest_files(session, list(paths), IngestSettings(), author=user(session), now=services.now(),
                            zone=ZONE, **kwargs)


def stored(services, piece_id: int) -> tuple[str, str, str]:
    with unit_of_work(services.sessions) as session:
        piece = session.get(Piece, piece_id)
        return piece.state, piece.current_revision.title, piece.current_revision.body


@pytest.mark.parametrize(("encode", "report"), [
    (lambda t: t.encode(), ""),
    (lambda t: t.encode("utf-8-sig"), ""),
    (lambda t: t.encode("utf-16"), ""),
    (lambda t: unicodedata.normalize("NFD", t).encode(),
     f"read as UTF-8; {sum(len(unicodedata.normalize('NFD', c)) > 1 for c in TEXT)} decomposed (NFD) letters "
     "composed to NFC"),
    (windows1258_encode, "converted from Windows-1258 to Unicode (NFC)"),
    (vni_encode, "converted from VNI to Unicode (NFC)"),
    (tcvn3_encode, "converted from TCVN3 (ABC) to Unicode (NFC)"),
], ids=["utf8", "utf8-bom", "utf16", "nfd", "cp1258", "vni", "tcvn3"])
def test_a_text_file_in_any_encoding_becomes_the_same_draft(desk, tmp_path, encode, report):
    path = tmp_path / "thongbao.txt"
    path.write_bytes(encode(TEXT))
    result = load(desk, path)
    [(piece_id, _, converted)] = result.added
    assert converted == report
    assert stored(desk, piece_id) == (PieceState.DRAFT, TITLE, BODY)


def test_markdown_loses_its_markup(desk, tmp_path):
    path = tmp_path / "hop.md"
    path.write_text("# Họp dân **khẩn**\n\n> Tối thứ Sáu, **19 giờ**, tại nhà văn hóa thôn.\n", encoding="utf-8")
    [(piece_id, _, _)] = load(desk, path).added
    assert stored(desk, piece_id)[1:] == ("Họp dân khẩn", "Tối thứ Sáu, 19 giờ, tại nhà văn hóa thôn.")


def _docx(path: Path, *paragraphs: str, font: str | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs:
        run = document.add_paragraph().add_run(text)
        if font:
            run.font.name = font
    document.save(path)
    return path


def test_a_word_document_becomes_a_draft_and_vni_typed_text_is_converted(desk, tmp_path):
    plain = _docx(tmp_path / "a.docx", TITLE, "Trạm y tế xã tổ chức tiêm chủng.", "Mời bà con đưa trẻ đến.")
    legacy = _docx(tmp_path / "b.docx", "Thoâng baùo hoïp daân", "Toái thöù Saùu, hoïp daân taïi nhaø vaên hoùa thoân.",
                   font="VNI-Times")
    result = load(desk, plain, legacy)
    assert [converted for _, _, converted in result.added] == [
        "", "converted from VNI to Unicode (NFC); the text was typed in a VNI font"]
    assert stored(desk, result.added[0][0])[1:] == (TITLE,
                                                    "Trạm y tế xã tổ chức tiêm chủng.\n\nMời bà con đưa trẻ đến.")
    assert stored(desk, result.added[1][0])[1:] == ("Thông báo họp dân", "Tối thứ Sáu, họp dân tại nhà văn hóa thôn.")


CSV = ("title,body,campaign,channels,valid_from,valid_until,priority,urgent,slogan\n"
       "Họp dân,Tối thứ Sáu họp dân tại nhà văn hóa.,,loudspeaker;board,2026-11-24,2026-11-27,7,không,\n"
       '"Cắt điện","Cắt điện từ 7 giờ đến 11 giờ, thôn Đông.",,,,,,có,không\n'
       '"Khẩu hiệu","Học, học nữa, học mãi!",,print,,,,,có\n')


def test_a_csv_file_loads_one_draft_a_row_with_its_columns(desk, tmp_path):
    """A file written before levels: its ``urgent`` column reads as the priority level."""
    path = tmp_path / "tin.csv"
    path.write_bytes(vni_encode(CSV))
    result = load(desk, path)
    assert [title for _, title, _ in result.added] == ["Họp dân", "Cắt điện", "Khẩu hiệu"]
    with unit_of_work(desk.sessions) as session:
        first, second, third = (session.get(Piece, i).current_revision for i, _, _ in result.added)
        assert third.slogan and not first.slogan and not second.slogan and third.channels == ["print"]
        assert first.channels == ["loudspeaker", "board"] and first.priority == 7 and first.level == "normal"
        assert first.valid_from.astimezone(ZONE).isoformat() == "2026-11-24T00:00:00+07:00"
        assert first.valid_until.astimezone(ZONE).isoformat() == "2026-11-28T00:00:00+07:00"
        assert second.body == "Cắt điện từ 7 giờ đến 11 giờ, thôn Đông." and second.level == "priority"


def test_a_csv_takes_dates_as_the_command_line_and_the_forms_do(desk, tmp_path):
    """dd/mm/yyyy, dd/mm/yyyy HH:MM and ISO: the one parser (content.dates) reads every way loa takes a date."""
    rows = ("title,body,valid_from,valid_until\n"
            "Họp dân,Tối thứ Sáu họp dân.,24/11/2026,27/11/2026\n"
            "Cắt điện,Cắt điện thôn Đông.,1/12/2026 06:30,2026-12-02T11:00\n")
    result = load(desk, _write(tmp_path / "tin.csv", rows))
    with unit_of_work(desk.sessions) as session:
        first, second = (session.get(Piece, i).current_revision for i, _, _ in result.added)
        assert first.valid_from.astimezone(ZONE).isoformat() == "2026-11-24T00:00:00+07:00"
        assert first.valid_until.astimezone(ZONE).isoformat() == "2026-11-28T00:00:00+07:00"  # the whole 27th
        assert second.valid_from.astimezone(ZONE).isoformat() == "2026-12-01T06:30:00+07:00"
        assert second.valid_until.astimezone(ZONE).isoformat() == "2026-12-02T11:00:00+07:00"


LEVELS_CSV = ("title,body,level\n"
              "Họp dân,Tối thứ Sáu họp dân.,\n"
              "Cắt điện,Cắt điện thôn Đông.,priority\n"
              "Lũ về,Nước sông lên nhanh.,Khẩn cấp\n"
              "Lịch tiêm,Tiêm chủng sáng thứ Bảy.,ưu tiên\n")


def test_a_csv_level_column_takes_the_names_or_the_vietnamese_ones(desk, tmp_path):
    result = load(desk, _write(tmp_path / "tin.csv", LEVELS_CSV))
    with unit_of_work(desk.sessions) as session:
        levels = [session.get(Piece, i).current_revision.level for i, _, _ in result.added]
    assert levels == ["normal", "priority", "emergency", "priority"]


@pytest.mark.parametrize(("content", "message"), [
    (CSV + "Tin lỗi,Nội dung,,,,,12,\n", "tin.csv:5: priority: priority must be between 1 and 9; got 12"),
    (CSV + "Tin lỗi,Nội dung,,,ngày mai,,,\n", "tin.csv:5: valid_from: 'ngày mai' is not a date; write 31/12/2026 "
                                                "or 2026-12-31"),
    (CSV + ",Nội dung không có tiêu đề,,,,,,\n", "tin.csv:5: title: the title is empty"),
    ("tieu_de,noi_dung\nA,B\n", "tin.csv:1: missing column 'title'; the columns are title, body, campaign, "
                                "channels, valid_from, valid_until, priority, level, slogan (title and body required)"),
    (LEVELS_CSV + "Tin lỗi,Nội dung,gấp\n", "tin.csv:6: level: level must be normal or priority or emergency; "
                                            "got gấp"),
    ("title,body,level,urgent\nTin,Nội dung,normal,có\n", "tin.csv:2: level: urgent is true but level is normal; "
                                                          "urgent means priority: keep one column"),
])
def test_one_bad_csv_row_refuses_the_whole_file_naming_its_line(desk, tmp_path, content, message):
    load(desk, _write(tmp_path / "a.txt", TEXT))
    before = snapshot(desk)
    path = _write(tmp_path / "tin.csv", content)
    with pytest.raises(InputError) as refused:
        load(desk, path)
    assert str(refused.value) == f"{tmp_path}/{message}"
    assert snapshot(desk) == before


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "data", "message"), [
    ("trong.txt", b"", "the file is empty"),
    ("mot-dong.txt", "Chỉ có tiêu đề\n".encode(),
     "the file has only a title line; the body goes on the lines after it"),
    ("anh.docx", b"PK\x03\x04 not really a zip", "not a Word .docx document"),
    ("bang.xlsx", b"PK", "loa loads .txt, .md, .docx, .csv files, not .xlsx"),
    ("nhi-phan.txt", b"\x00\x01\x02\x03\xff\xfe\x00", "this is a binary file, not text (it contains NUL bytes)"),
])
def test_a_file_that_is_not_a_piece_is_refused_naming_it(desk, tmp_path, name, data, message):
    load(desk, _write(tmp_path / "a.txt", TEXT))
    before = snapshot(desk)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as refused:
        load(desk, path)
    assert str(refused.value).startswith(f"{path}: {message}")
    assert snapshot(desk) == before


def test_a_50_mb_file_is_refused_before_it_is_read(desk, tmp_path):
    path = tmp_path / "lon.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match=r"lon\.txt: the file is 50\.0 MB; at most 10 MB \(\[ingest\] max_file_mb\)"):
        load(desk, path)


def test_a_body_over_the_piece_limit_is_refused(desk, tmp_path):
    path = _write(tmp_path / "dai.txt", "Tiêu đề\n" + "Nội dung rất dài. " * 8000)
    with pytest.raises(InputError, match=r"dai\.txt: body: the body has 143999 characters; at most 100000"):
        load(desk, path)


def test_loading_the_same_file_twice_adds_it_once(desk, tmp_path):
    path = _write(tmp_path / "a.txt", TEXT)
    first = load(desk, path)
    second = load(desk, path)
    assert second.added == [] and second.skipped == [(TITLE, f"identical to piece {first.added[0][0]}")]


def test_a_folder_lists_its_loadable_files_and_leaves_hidden_ones(tmp_path):
    for name in ("b.txt", "a.md", "sub/c.docx", ".an/d.txt", "~$tam.docx", "anh.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in folder_files(tmp_path)] == ["a.md", "b.txt", "sub/c.docx"]
    with pytest.raises(InputError, match="no such folder"):
        folder_files(tmp_path / "khong-co")


def test_every_loaded_piece_is_a_draft_by_the_named_user(desk, tmp_path):
    load(desk, _write(tmp_path / "a.txt", TEXT))
    with unit_of_work(desk.sessions) as session:
        pieces = session.scalars(select(Piece)).all()
        assert {(p.state, p.author.name) for p in pieces} == {(PieceState.DRAFT, "bien-tap-lan")}


def test_a_docx_that_would_inflate_to_gigabytes_is_refused_before_anything_is_decompressed(desk, tmp_path,
                                                                                            monkeypatch):
    import zipfile

    path = _docx(tmp_path / "bom.docx", TITLE, "Nội dung.")
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("word/media/pad.bin", "w", force_zip64=True) as pad:
        for _ in range(160):
            pad.write(b"\0" * (1024 * 1024))
    assert path.stat().st_size < 1024 * 1024  # small on disk: only inflating shows what it is

    def no_reading(*args, **kwargs):
        raise AssertionError("python-docx was asked to read a zip bomb")

    monkeypatch.setattr(docx, "Document", no_reading)
    before = snapshot(desk)
    with pytest.raises(InputError, match=r"bom\.docx: the \.docx would inflate to 16[01] MB; a document's parts may "
                                         r"take at most 100 MB$"):
        load(desk, path)
    assert snapshot(desk) == before
