"""Text for speech: numbers, dates, times, ranges, units, Roman numerals, document numbers and
abbreviations as they appear in the provincial plans are written out exactly as they should be read."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.render.normalize import builtin_abbreviations, normalize

# Phrasing taken from the plans in shared/seeds (Hà Nội 231/KH-UBND, Cao Bằng's 2021-2030 plan).
CASES = [
    ('3.321 xã', 'ba nghìn ba trăm hai mươi mốt xã'),
    ('1,5 ha', 'một phẩy năm héc ta'),
    ('0,05', 'không phẩy không năm'),
    ('2,25%', 'hai phẩy hai mươi lăm phần trăm'),
    ('0', 'không'),
    ('5', 'năm'),
    ('10', 'mười'),
    ('11', 'mười một'),
    ('15', 'mười lăm'),
    ('20', 'hai mươi'),
    ('21', 'hai mươi mốt'),
    ('24', 'hai mươi tư'),
    ('25', 'hai mươi lăm'),
    ('55', 'năm mươi lăm'),
    ('100', 'một trăm'),
    ('101', 'một trăm linh một'),
    ('105', 'một trăm linh năm'),
    ('110', 'một trăm mười'),
    ('115', 'một trăm mười lăm'),
    ('231', 'hai trăm ba mươi mốt'),
    ('489', 'bốn trăm tám mươi chín'),
    ('1.000', 'một nghìn'),
    ('1.005', 'một nghìn không trăm linh năm'),
    ('1312', 'một nghìn ba trăm mười hai'),
    ('2020', 'hai nghìn không trăm hai mươi'),
    ('10.500', 'mười nghìn năm trăm'),
    ('1.000.000', 'một triệu'),
    ('1.000.050', 'một triệu không trăm năm mươi'),
    ('1.005.000', 'một triệu không trăm linh năm nghìn'),
    ('2.500.000.000', 'hai tỷ năm trăm triệu'),
    ('1.000.000.000.000', 'một nghìn tỷ'),
    ('500.000 đồng', 'năm trăm nghìn đồng'),
    ('500.000đ', 'năm trăm nghìn đồng'),
    ('1.200.000 VNĐ', 'một triệu hai trăm nghìn đồng'),
    ('0912345678', 'không chín một hai ba bốn năm sáu bảy tám'),
    ('thứ 2', 'thứ hai'),
    ('Thứ 7, ngày 21/4', 'Thứ bảy, ngày hai mươi mốt tháng tư'),
    ('lần thứ 1', 'lần thứ nhất'),
    ('lần thứ 4', 'lần thứ tư'),
    ('21/4', 'ngày hai mươi mốt tháng tư'),
    ('ngày 21/4', 'ngày hai mươi mốt tháng tư'),
    ('21/4/2026', 'ngày hai mươi mốt tháng tư năm hai nghìn không trăm hai mươi sáu'),
    ('01/12/2020', 'ngày mồng một tháng mười hai năm hai nghìn không trăm hai mươi'),
    ('ngày 08/4/2020', 'ngày mồng tám tháng tư năm hai nghìn không trăm hai mươi'),
    ('ngày 13/4/2007', 'ngày mười ba tháng tư năm hai nghìn không trăm linh bảy'),
    ('ngày 10/5/2019', 'ngày mồng mười tháng năm năm hai nghìn không trăm mười chín'),
    ('Hà Nội, ngày 01 tháng 12 năm 2020', 'Hà Nội, ngày mồng một tháng mười hai năm hai nghìn không trăm hai mươi'),
    ('ngày 21 tháng 4', 'ngày hai mươi mốt tháng tư'),
    ('Cao Bằng, ngày tháng 10 năm 2021', 'Cao Bằng, ngày tháng mười năm hai nghìn không trăm hai mươi mốt'),
    ('tháng 5/2019', 'tháng năm năm hai nghìn không trăm mười chín'),
    ('1-7/10', 'ngày mồng một đến mồng bảy tháng mười'),
    ('năm 2021-2030', 'năm hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm ba mươi'),
    ('giai đoạn 2021 - 2030', 'giai đoạn hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm ba mươi'),
    ('Giai đoạn năm 2021-2030', 'Giai đoạn năm hai nghìn không trăm hai mươi mốt đến hai nghìn không trăm ba mươi'),
    ('đến năm 2025, định hướng đến năm 2030',
     'đến năm hai nghìn không trăm hai mươi lăm, định hướng đến năm hai nghìn không trăm ba mươi'),
    ('7h30', 'bảy giờ ba mươi phút'),
    ('7h', 'bảy giờ'),
    ('từ 7h30 đến 11h', 'từ bảy giờ ba mươi phút đến mười một giờ'),
    ('07:30', 'bảy giờ ba mươi phút'),
    ('17:00', 'mười bảy giờ'),
    ('7 giờ 30', 'bảy giờ ba mươi'),
    ('80-90%', 'tám mươi đến chín mươi phần trăm'),
    ('100%', 'một trăm phần trăm'),
    ('đạt 95% trở lên', 'đạt chín mươi lăm phần trăm trở lên'),
    ('Phần II', 'Phần hai'),
    ('quý IV', 'quý bốn'),
    ('khóa X', 'khóa mười'),
    ('khóa XII', 'khóa mười hai'),
    ('Đại hội XIII', 'Đại hội mười ba'),
    ('I. MỤC ĐÍCH, YÊU CẦU.', 'Một. MỤC ĐÍCH, YÊU CẦU.'),
    ('II. NỘI DUNG, HÌNH THỨC TRIỂN KHAI.', 'Hai. NỘI DUNG, HÌNH THỨC TRIỂN KHAI.'),
    ('IV. TỔ CHỨC THỰC HIỆN', 'Bốn. TỔ CHỨC THỰC HIỆN'),
    ('1. Mục đích.', 'một. Mục đích.'),
    ('20 km', 'hai mươi ki lô mét'),
    ('12,5 km', 'mười hai phẩy năm ki lô mét'),
    ('30 m²', 'ba mươi mét vuông'),
    ('150 m2', 'một trăm năm mươi mét vuông'),
    ('2 ha', 'hai héc ta'),
    ('50 kg', 'năm mươi ki lô gam'),
    ('Quyết định số 1373/QĐ-TTg', 'Quyết định số một nghìn ba trăm bảy mươi ba của Thủ tướng Chính phủ'),
    ('Kế hoạch 231/KH-UBND', 'Kế hoạch hai trăm ba mươi mốt của Ủy ban nhân dân'),
    ('Số: 231/KH-UBND', 'Số: hai trăm ba mươi mốt kế hoạch của Ủy ban nhân dân'),
    ('Nghị định 49/2021/NĐ-CP', 'Nghị định bốn mươi chín năm hai nghìn không trăm hai mươi mốt của Chính phủ'),
    ('Kết luận số 49-KL/TW', 'Kết luận số bốn mươi chín của Trung ương'),
    ('Chỉ thị số 11-CT/TW', 'Chỉ thị số mười một của Trung ương'),
    ('Chỉ thị số 14/CT-TTg ngày 25/5/2021',
     'Chỉ thị số mười bốn của Thủ tướng Chính phủ ngày hai mươi lăm tháng năm năm hai nghìn không '
     'trăm hai mươi mốt'),
    ('Quyết định số 1312/QĐ-BTTTT ngày 03/8/2020 của Bộ Thông tin và Truyền thông',
     'Quyết định số một nghìn ba trăm mười hai ngày mồng ba tháng tám năm hai nghìn không trăm hai '
     'mươi của Bộ Thông tin và Truyền thông'),
    ('QUYẾT ĐỊNH SỐ 489/QĐ-TTG NGÀY 08/4/2020',
     'QUYẾT ĐỊNH SỐ bốn trăm tám mươi chín của Thủ tướng Chính phủ NGÀY mồng tám tháng tư năm hai '
     'nghìn không trăm hai mươi'),
    ('theo Kế hoạch số 62/KH-UBND ngày 24/3/2020 của UBND Thành phố',
     'theo Kế hoạch số sáu mươi hai ngày hai mươi tư tháng ba năm hai nghìn không trăm hai mươi của '
     'Ủy ban nhân dân Thành phố'),
    ('thực hiện 1373/QĐ-TTg', 'thực hiện một nghìn ba trăm bảy mươi ba quyết định của Thủ tướng Chính phủ'),
    ('UBND tỉnh Cao Bằng', 'Ủy ban nhân dân tỉnh Cao Bằng'),
    ('Ủy ban nhân dân (UBND) tỉnh', 'Ủy ban nhân dân (Ủy ban nhân dân) tỉnh'),
    ('HĐND và UBND xã', 'Hội đồng nhân dân và Ủy ban nhân dân xã'),
    ('Ban Thường trực UBMTTQ', 'Ban Thường trực Ủy ban Mặt trận Tổ quốc'),
    ('MTTQ các cấp', 'Mặt trận Tổ quốc các cấp'),
    ('trường THCS, THPT', 'trường trung học cơ sở, trung học phổ thông'),
    ('Trung tâm GDNN-GDTX', 'Trung tâm giáo dục nghề nghiệp - giáo dục thường xuyên'),
    ('các TTHTCĐ', 'các Trung tâm học tập cộng đồng'),
    ('CLB đọc sách', 'câu lạc bộ đọc sách'),
    ('BCĐ xã', 'Ban Chỉ đạo xã'),
    ('TP Hà Nội', 'thành phố Hà Nội'),
    ('Sở GD&ĐT', 'Sở Giáo dục và Đào tạo'),
    ('Bộ VHTTDL', 'Bộ Văn hóa, Thể thao và Du lịch'),
    ('phát triển KT-XH', 'phát triển kinh tế - xã hội'),
    ('TPHCM', 'TPHCM'),
    ('gia đình 5 không, 3 sạch', 'gia đình năm không, ba sạch'),
    ('Hội nghị Trung ương 8 (khóa XI)', 'Hội nghị Trung ương tám (khóa mười một)'),
    ('phòng chống dịch COVID-19', 'phòng chống dịch cô vít mười chín'),
    ('từ ngày 1-7/10/2026', 'từ ngày mồng một đến mồng bảy tháng mười năm hai nghìn không trăm hai mươi sáu'),
]


@pytest.mark.parametrize(("text", "spoken"), CASES)
def test_plan_phrasing_is_read_as_a_person_would(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_the_table_is_large_enough_to_cover_the_kinds_of_text() -> None:
    assert len(CASES) >= 80


@given(st.integers(min_value=0, max_value=10**12))
def test_no_integer_up_to_a_million_millions_leaves_a_digit(n: int) -> None:
    for written in (str(n), f"{n:,}".replace(",", ".")):
        out = normalize(written)
        assert not re.search(r"\d", out), (written, out)
        assert unicodedata.is_normalized("NFC", out)
        assert out


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_any_text_comes_out_nfc_with_no_digit_and_as_many_lines(text: str) -> None:
    out = normalize(text)
    assert unicodedata.is_normalized("NFC", out)
    assert not re.search(r"[0-9]", out)
    assert len(out.split("\n")) == max(1, len(unicodedata.normalize("NFC", text).splitlines()))


def test_decomposed_input_is_composed_first() -> None:
    decomposed = unicodedata.normalize("NFD", "Ủy ban nhân dân xã ngày 21/4")
    assert normalize(decomposed) == "Ủy ban nhân dân xã ngày hai mươi mốt tháng tư"


def test_one_output_line_per_input_line_with_spacing_tidied() -> None:
    assert normalize("UBND  xã\n\n  Ngày 21/4 ") == "Ủy ban nhân dân xã\n\nNgày hai mươi mốt tháng tư"


def test_a_centre_extends_and_overrides_the_builtin_list() -> None:
    extra = {"TTVH-TT": "Trung tâm Văn hóa - Truyền thông", "TP": "thị xã"}
    assert normalize("TTVH-TT TP Cao Bằng", extra) == "Trung tâm Văn hóa - Truyền thông thị xã Cao Bằng"
    assert builtin_abbreviations()["TP"] == "thành phố"  # the shipped list is left as it was


def test_impossible_dates_and_times_are_still_read_as_numbers() -> None:
    assert normalize("32/13") == "ba mươi hai/mười ba"
    assert normalize("25h") == "hai mươi lăm h"


def test_numbers_written_with_mixed_separators_are_read_not_crashed_on() -> None:
    assert normalize("các lớp 1,2,3") == "các lớp một, hai, ba"
    assert normalize("1,234.5") == "một nghìn hai trăm ba mươi tư chấm năm"  # copied from an English source
    assert normalize("2,5.000") == "hai, năm chấm không không không"
