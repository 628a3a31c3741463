"""The command line speaks Vietnamese unless asked for English (``--lang en`` or ``LOA_LANG=en``): its errors, its
help, click's usage errors and ``loa plan``'s reasons, through the same catalogs as the web."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import typer

from loa.cli.app import app
from loa.plan_report import print_plan, with_texts
from scheduler.planning.changes import HeldPin, PlanChanges
from scheduler.planning.planner_types import Held, Shortfall, Unplaced

MARKERS = ("<bool>", "<int", "<str>", "<path>", "<float>", "<text>")


def test_a_bad_date_reads_in_vietnamese_naming_the_option(cli):
    result = cli("plan", "--from", "31/02/2026", ok=False, lang=None)
    assert result.exit_code == 2
    assert result.stderr == ("loa: lỗi: --from: “31/02/2026” không phải ngày; hãy nhập dạng 31/12/2026 hoặc "
                             "2026-12-31\n")


@pytest.mark.parametrize("how", ["env", "option before", "option after"])
def test_the_same_error_reads_in_english_when_asked(cli, how):
    args = {"env": ("plan", "--from", "31/02/2026"), "option before": ("--lang", "en", "plan", "--from", "31/02/2026"),
            "option after": ("plan", "--from", "31/02/2026", "--lang", "en")}[how]
    result = cli(*args, ok=False, lang="en" if how == "env" else None)
    assert result.exit_code == 2
    assert result.stderr == "loa: error: --from: '31/02/2026' is not a date; write 31/12/2026 or 2026-12-31\n"


def test_a_field_error_of_the_content_layer_keeps_its_field_and_its_hint_in_vietnamese(cli):
    cli("init")
    missing = cli("piece", "show", "999", ok=False, lang=None)
    assert missing.exit_code == 2
    assert missing.stderr == "loa: lỗi: Không có bài số 999; xem `loa piece list`\n"
    unknown = cli("--as", "khong-co", "piece", "list", ok=False, lang=None)
    assert unknown.stderr.startswith("loa: lỗi: ") and "tạo tài khoản bằng `loa user add khong-co --role editor`" \
        in unknown.stderr
    station = cli("user", "add", "lan", "--role", "editor", "--station", "12345", ok=False, lang="vi")
    assert station.stderr.startswith("loa: lỗi: --station: ") and "12345" in station.stderr
    assert "Traceback" not in station.stderr + missing.stderr + unknown.stderr


def _help(cli, *args: str, lang: str | None = None) -> str:
    result = cli(*args, "--help", lang=lang)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_help_is_vietnamese_without_python_type_markers(cli):
    text = _help(cli)
    for words in ("Cách dùng:", "Tuỳ chọn", "Lệnh", "Thư mục cấu hình.", "Lập (lại) lịch phát", "ĐƯỜNG-DẪN",
                  "Hiện trợ giúp này rồi thoát.", "[biến môi trường: LOA_CONFIG]"):
        assert words in text, (words, text)
    assert not [m for m in MARKERS if m in text]
    plan = _help(cli, "plan")
    assert "Số ngày." in plan and "SỐ" in plan and "Các tuỳ chọn chung (" in plan
    assert not [m for m in MARKERS if m in plan]


def test_help_is_english_when_asked(cli):
    text = _help(cli, "plan", lang="en")
    assert "Usage:" in text and "How many days." in text and "Options" in text
    assert "Cách dùng" not in text
    assert not [m for m in MARKERS if m in text]


def _commands(group, path=()):
    for name, command in group.commands.items():
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


def test_every_command_s_help_is_vietnamese_and_shows_no_type_markers(cli):
    root = typer.main.get_command(app)
    for path in _commands(root):
        text = _help(cli, *path)
        assert "Cách dùng:" in text and "Usage:" not in text, (path, text)
        assert not [m for m in MARKERS if m in text], (path, text)


def test_a_group_named_without_a_command_shows_its_help_in_vietnamese(cli):
    result = cli("piece", ok=False, lang=None)
    said = result.stdout + result.stderr
    assert "Cách dùng:" in said and "Tuỳ chọn" in said and "Lệnh" in said, said
    assert "Options" not in said and "Commands" not in said


def test_click_s_usage_errors_read_in_vietnamese(cli):
    bad = cli("plan", "--days", "x", ok=False, lang=None)
    assert bad.exit_code == 2
    assert "Giá trị của '--days' không hợp lệ: cần một số nguyên" in bad.stderr
    assert "Cách dùng:" in bad.stderr and "Lỗi" in bad.stderr
    unknown = cli("plan", "--sang", ok=False, lang=None)
    assert "Không có tuỳ chọn --sang" in unknown.stderr
    missing = cli("user", "add", ok=False, lang=None)
    assert "Thiếu tham số 'name'." in missing.stderr
    english = cli("plan", "--days", "x", ok=False, lang="en")
    assert "Invalid value for '--days'" in english.stderr and "Giá trị" not in english.stderr


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _changes() -> PlanChanges:
    changes = PlanChanges(first_day=date(2026, 11, 23), last_day=date(2026, 11, 29), instances=42, zone=ZONE)
    changes.unplaced = [
        Unplaced(7, "Bài dài", "loudspeaker", 3, "it lasts 400 s, longer than every slot (300 s)", "too_long",
                 {"seconds": 400.2, "longest": 300}),
        Unplaced(8, "Học tập suốt đời", "loudspeaker", 3, "…", "campaign_off",
                 {"campaign": "tuan-hoc-tap", "first": "2026-11-23", "last": "2026-11-29"}),
        Unplaced(9, "Tin thường", "portal", 0, "no portal slot in these days", "no_slot", {"outlet": "portal"}),
    ]
    changes.shortfalls = [Shortfall("99001", "loudspeaker", date(2026, 11, 23), "thap", 1, 0, "full", "…")]
    changes.held = [HeldPin("99001", "loudspeaker", datetime(2026, 11, 23, 10, tzinfo=UTC), 5, "Ghim",
                            Held("no_room", seconds=200, room=60, length=300))]
    return changes


def _printed(lang: str) -> str:
    lines: list[str] = []
    print_plan(_changes(), lines.append, lang)
    return "\n".join(lines)


def test_plan_says_why_in_vietnamese():
    text = _printed("vi")
    assert text.startswith("lịch 23/11/2026 → 29/11/2026: 42 lượt khung giờ")
    assert ("  không xếp được: bài 7 «Bài dài» trên loa truyền thanh (3 xã): bài dài 400 giây, dài hơn mọi "
            "chương trình (300 giây)") in text
    assert "bài 8 «Học tập suốt đời» trên loa truyền thanh (3 xã): chiến dịch của bài không diễn ra từ 23/11/2026 " \
        "đến 29/11/2026" in text
    assert "bài 9 «Tin thường» trên cổng thông tin: không có khung giờ cổng thông tin nào trong những ngày này" in text
    assert ("  chưa đạt chỉ tiêu: chiến dịch thap trên loa truyền thanh, 1 ngày-xã (ví dụ xã 99001 ngày 23/11/2026: "
            "0/1 lượt một ngày): các chương trình đã kín bởi bài ghim, ") in text
    assert ("bài ghim bị để ngoài: bài 5 «Ghim» 99001 loa truyền thanh 23/11 17:00: bản đã duyệt dài 200 giây, "
            "nhưng bên cạnh các bài ghim khác, chương trình 300 giây chỉ còn 60 giây") in text
    for code in ("too_long", "campaign_off", "no_slot", "full", "no_room"):
        assert code not in text


def test_plan_says_why_in_english_when_asked():
    text = _printed("en")
    assert "  not placed: piece 7 «Bài dài» on loudspeaker (3 stations): it lasts 400 s, longer than every slot " \
        "(300 s)" in text
    assert "campaign 'tuan-hoc-tap' is not on between 23/11/2026 and 29/11/2026" in text
    assert "target not met: campaign thap on loudspeaker, 1 station-days" in text
    assert "the approved revision lasts 200 s, but beside the other pinned pieces only 60 s of the 300 s program " \
        "are left" in text


def test_plan_json_keeps_the_codes_and_adds_the_sentence():
    data = with_texts(_changes().to_dict(), "vi")
    first = data["unplaced"][0]
    assert (first["code"], first["params"]) == ("too_long", {"seconds": 400.2, "longest": 300})
    assert data["unplaced"][0]["reason"] == "it lasts 400 s, longer than every slot (300 s)"  # English, as before
    assert data["unplaced"][0]["text"] == "bài dài 400 giây, dài hơn mọi chương trình (300 giây)"
    assert data["unmet_targets"][0]["code"] == "full" and data["unmet_targets"][0]["text"].startswith("các chương")
    assert data["pins_held"][0]["text"].startswith("bản đã duyệt dài 200 giây")
    assert with_texts(_changes().to_dict(), "en")["unplaced"][2]["text"] == "no portal slot in these days"


def test_the_web_piece_page_and_loa_plan_say_the_same_sentence():
    from loa.airing_words import words
    from scheduler.views.piece_airings import PieceAirings

    item = _changes().unplaced[1]
    found = PieceAirings("approved", unplaced=[{"outlet": item.outlet, "stations": item.stations, "code": item.code,
                                                "params": dict(item.params), "reason": item.reason}])
    answer = words(found, now=datetime(2026, 11, 23, tzinfo=UTC), zone=ZONE)
    sentence = "chiến dịch của bài không diễn ra từ 23/11/2026 đến 29/11/2026"
    assert answer.lines == [f"Loa truyền thanh: không phát tại 3 xã — {sentence}."]
    assert sentence in _printed("vi")


def test_a_stored_reason_without_parameters_still_reads():
    from loa.i18n import reason_text

    assert reason_text("unplaced", "no_room", None, "vi") == "hết chỗ: các chương trình đã kín bởi những bài ưu tiên " \
        "cao hơn"
    # a request re-planned before reasons carried parameters: the English sentence it stored
    assert reason_text("unplaced", "campaign_off", None, "vi", fallback="campaign 'x' is not on") == \
        "campaign 'x' is not on"
    assert reason_text("unplaced", "unheard_of", {}, "vi", fallback="why") == "why"


def test_an_error_quoting_a_planner_reason_says_the_reason_in_the_reader_s_language():
    from content.errors import StateError
    from loa.i18n import error_text
    from scheduler.planning.planner_types import Held

    error = StateError("airing {id} is a pin held out of its program: {reason}; make room and re-plan, or unpin it "
                       "so the planner places the piece elsewhere", id=3, reason=Held("campaign_off").reason)
    assert "(chiến dịch của bài không diễn ra ngày hôm đó)" in error_text(error, "vi")
    assert "its campaign is not on that day" in error_text(error, "en")


def test_a_refused_file_in_a_folder_reads_in_vietnamese_naming_the_file(cli, tmp_path):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    folder = tmp_path / "bai"
    folder.mkdir()
    (folder / "1-tot.txt").write_text("Họp dân\nTối thứ Sáu họp dân tại nhà văn hóa thôn.\n", encoding="utf-8")
    (folder / "2-hong.txt").write_bytes(b"\x00\x01\x02binary")
    result = cli("ingest", "folder", str(folder), user="bien-tap", ok=False, lang=None)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"loa: lỗi: {folder / '2-hong.txt'}: đây là tệp nhị phân, không phải văn bản "
                                     "(có byte NUL)")
    csv = tmp_path / "bai.csv"
    csv.write_text("tieu_de,body\nTin,Nội dung\n", encoding="utf-8")
    refused = cli("ingest", "file", str(csv), user="bien-tap", ok=False, lang=None)
    assert refused.stderr.startswith(f"loa: lỗi: {csv}:1: thiếu cột “title”; các cột gồm title, body")


def test_a_configuration_error_reads_in_vietnamese_naming_the_file_and_key(cli, config_dir):
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    stations.write_text(text + text[text.index("[[station]]"):], encoding="utf-8")  # the first station again
    result = cli("init", ok=False, lang=None)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"loa: lỗi: {stations}: station[")
    assert "đã được một xã khác dùng" in result.stderr
