"""``loa normalize`` shows what will be spoken; ``loa render`` renders a piece and says which engine read it."""

from __future__ import annotations

import sys
from pathlib import Path

import requests
import responses

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import EDITOR, add_piece, at, setup_accounts

GTTS_URL = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"


def test_normalize_prints_one_spoken_line_per_input_line(cli, tmp_path: Path) -> None:
    assert cli("normalize", "UBND xã thông báo: 7h30 ngày 21/4").stdout == (
        "Ủy ban nhân dân xã thông báo: bảy giờ ba mươi phút ngày hai mươi mốt tháng tư\n")
    source = tmp_path / "tin.txt"
    source.write_text("Kế hoạch 231/KH-UBND\n\nTTVH-TT đạt 80-90%\n", "utf-8")
    assert cli("normalize", "--file", str(source)).stdout.split("\n")[:3] == [
        "Kế hoạch hai trăm ba mươi mốt của Ủy ban nhân dân",
        "",
        "Trung tâm Văn hóa - Truyền thông đạt tám mươi đến chín mươi phần trăm",  # from config/loa.toml
    ]


def test_normalize_shows_phones_units_hours_and_compound_abbreviations_as_heard(cli, tmp_path: Path) -> None:
    assert cli("normalize", "Sở TT&TT mở cửa 7h-11h, trời 25°C, gọi 0912 345 678").stdout == (
        "Sở Thông tin và Truyền thông mở cửa bảy giờ đến mười một giờ, trời hai mươi lăm độ C, "
        "gọi không chín một hai, ba bốn năm, sáu bảy tám\n")
    source = tmp_path / "thong-bao.txt"
    source.write_text("Học phí 15.000.000 đồng/lớp\nCấp cứu 115\n115 hộ\n", "utf-8")
    assert cli("normalize", "--file", str(source)).stdout == (
        "Học phí mười lăm triệu đồng một lớp\nCấp cứu một một năm\nmột trăm mười lăm hộ\n")


def test_normalize_needs_text_or_a_readable_file(cli, tmp_path: Path) -> None:
    assert "TEXT or --file" in cli("normalize", ok=False).stderr
    missing = cli("normalize", "--file", str(tmp_path / "none.txt"), ok=False)
    assert missing.exit_code == 2 and "none.txt" in missing.stderr
    latin = tmp_path / "cu.txt"
    latin.write_bytes("Ủy ban".encode("utf-16"))
    assert "not UTF-8" in cli("normalize", "--file", str(latin), ok=False).stderr


def test_render_prints_path_duration_engine_and_loudness(cli) -> None:
    now = at("05:00")
    setup_accounts(cli, now)
    piece = add_piece(cli, "Ngày Sách", "Mời bà con đến thư viện xã ngày 21/4.", now)
    shown = cli.json("render", str(piece), now=now)
    assert Path(shown["path"]).is_file() and shown["engine"] == "espeak"
    assert shown["duration_s"] > 2 and abs(shown["loudness_lufs"] + 16) <= 1 and shown["true_peak_db"] <= -1.5
    assert shown["fallback"] is None
    text = cli("render", str(piece), now=now).stdout
    assert shown["path"] in text and "engine=espeak" in text and "LUFS" in text


@responses.activate
def test_a_failed_gtts_render_tells_the_editor_it_fell_back(cli, config_dir: Path) -> None:
    toml = config_dir / "loa.toml"
    toml.write_text(toml.read_text("utf-8").replace('engine = "offline"', 'engine = "gtts"'), "utf-8")
    responses.add(responses.POST, GTTS_URL, body=requests.exceptions.ConnectionError("no network"))
    now = at("05:00")
    setup_accounts(cli, now)
    piece = add_piece(cli, "Ngày Sách", "Mời bà con đến thư viện xã ngày 21/4.", now)
    result = cli("render", str(piece), now=now)
    assert "engine=espeak" in result.stdout
    assert "gtts could not speak" in result.stderr and "read by espeak" in result.stderr
    assert "gtts could not speak" in cli("piece", "show", str(piece), now=now, user=EDITOR).stdout
