"""Legacy Vietnamese encodings: hand-written samples of TCVN3, VNI and Windows-1258 convert to the exact
Unicode text, samples generated from Unicode round-trip, NFD is composed, and unknown bytes are refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.errors import InputError
from content.ingest.encodings import decode_text, is_vietnamese_word, repair
from content.ingest.legacy import tcvn3_encode, vni_encode, windows1258_encode

# Bytes typed by hand from the published code charts, not produced by loa's tables.
KNOWN = [
    ("tcvn3", b"B\xb6o Th\xbeng, M\xad\xeang Kh\xad\xacng", "Bảo Thắng, Mường Khương"),
    ("tcvn3", b"x\xb7 T\xa9n L\xe9c, Vi\xd6t Nam", "xã Tân Lộc, Việt Nam"),
    ("tcvn3", b"TH\xabNG B\xb8O: \xa7\xe5ng b\xb5o", "THÔNG BÁO: Đồng bào"),
    ("vni", "Xin chaøo caùc baïn, Vieät Nam".encode("cp1252"), "Xin chào các bạn, Việt Nam"),
    ("vni", "Ñoàng baøo, ngöôøi daân, UÛY BAN NHAÂN DAÂN".encode("cp1252"),
     "Đồng bào, người dân, ỦY BAN NHÂN DÂN"),
    ("cp1258", b"Vi\xea\xf2t Nam, \xd0\xf4\xccng b\xe0o, ng\xfd\xf5\xcci d\xe2n", "Việt Nam, Đồng bào, người dân"),
]


@pytest.mark.parametrize(("encoding", "data", "text"), KNOWN)
def test_hand_written_legacy_samples_convert_to_the_exact_text(encoding, data, text):
    decoded = decode_text(data, where="thongbao.txt")
    assert (decoded.encoding, decoded.text) == (encoding, text)
    assert unicodedata.is_normalized("NFC", decoded.text)


def test_the_editor_is_told_what_was_converted():
    assert decode_text(b"B\xb6o Th\xbeng", where="f").report() == "converted from TCVN3 (ABC) to Unicode (NFC)"
    assert decode_text("Bảo Thắng".encode(), where="f").report() == "read as UTF-8"
    assert decode_text("Việt".encode("utf-8-sig"), where="f").report() == "read as UTF-8 with BOM"
    nfd = unicodedata.normalize("NFD", "Người dân Việt Nam")
    decoded = decode_text(nfd.encode(), where="f")
    assert decoded.text == "Người dân Việt Nam"
    assert decoded.report() == "read as UTF-8; 4 decomposed (NFD) letters composed to NFC"


SENTENCE = ("THÔNG BÁO: Ủy ban nhân dân xã tổ chức Ngày hội Đại đoàn kết toàn dân tộc; mời bà con đến dự. "
            "Người dân nghiêm túc thực hiện quy định phòng cháy, chữa cháy rừng; khuyến khích gửi ý kiến.")


@pytest.mark.parametrize("encode", [vni_encode, windows1258_encode], ids=["vni", "cp1258"])
def test_generated_samples_round_trip(encode):
    assert decode_text(encode(SENTENCE), where="f").text == SENTENCE


def test_tcvn3_has_no_capitals_with_tone_marks_so_they_come_back_in_lower_case_unless_the_word_is_capitals():
    assert decode_text(tcvn3_encode(SENTENCE), where="f").text == SENTENCE.replace("Ủy", "ủy")


def test_utf16_with_and_without_bom():
    assert decode_text(SENTENCE.encode("utf-16"), where="f").text == SENTENCE
    assert decode_text(SENTENCE.encode("utf-16-le"), where="f").text == SENTENCE
    assert decode_text(SENTENCE.encode("utf-16-be"), where="f").encoding == "utf-16"


VOCABULARY = sorted(set(unicodedata.normalize("NFC", """
    thông báo ủy ban nhân dân xã tổ chức ngày hội đại đoàn kết toàn dân tộc mời bà con đến dự người nghiêm túc
    thực hiện quy định phòng cháy chữa rừng khuyến khích gửi ý kiến trạm y tế tiêm chủng cho trẻ em vào sáng thứ
    bảy lịch họp thôn bản đường điện nước sạch mưa bão lũ lụt sạt lở đất học sinh trường mầm non tiểu học gia đình
    văn hóa khu phố an ninh trật tự giao thông đội mũ bảo hiểm khi đi xe máy uống rượu bia không lái xe chuyển đổi
    số dịch vụ công trực tuyến thuế nông nghiệp giống lúa phân bón thời tiết rét đậm hại gia súc gia cầm""").split()))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([w for w in VOCABULARY if not w.isascii()]), min_size=8, max_size=30, unique=True))
def test_lower_case_vietnamese_text_round_trips_through_vni_and_tcvn3(words):
    # Eight different words: a line of one or two words can be Vietnamese in both encodings ("vụ" in
    # TCVN3 is "vơ" in VNI); the editor sees which was chosen and can name it (--encoding).
    text = " ".join(words) + "."
    for encode in (vni_encode, tcvn3_encode):
        assert decode_text(encode(text), where="f").text == text


def test_bytes_that_are_no_vietnamese_encoding_are_refused_with_the_reason():
    data = "Привет мир, как дела? Это русский текст о погоде.".encode("cp1251")
    with pytest.raises(InputError) as refused:
        decode_text(data, where="bao-cao.txt")
    message = str(refused.value)
    assert message.startswith("bao-cao.txt: not UTF-8, and read as Windows-1258, VNI or TCVN3 it still has ")
    assert "words that are not Vietnamese (e.g. " in message
    assert message.endswith("; save it as Unicode (UTF-8) and load it again")
    with pytest.raises(InputError, match=r"^anh\.txt: this is a binary file, not text \(it contains NUL bytes\)$"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", where="anh.txt")


def test_unicode_text_typed_in_a_vni_font_is_repaired():
    # What a .docx in a VNI-Times font holds: Unicode Latin-1 letters standing for VNI codes.
    decoded = repair(decode_text("Thoâng baùo veà vieäc tieâm chuûng".encode(), where="f"))
    assert decoded.text == "Thông báo về việc tiêm chủng"
    assert decoded.report() == "converted from VNI to Unicode (NFC); the text was typed in a VNI font"
    untouched = repair(decode_text("Thông báo, café và résumé".encode(), where="f"))
    assert untouched.text == "Thông báo, café và résumé" and untouched.encoding == "utf-8"


@pytest.mark.parametrize(("word", "ok"), [("Người", True), ("nghiêng", True), ("Vieät", False), ("bàá", False),
                                          ("mħ", False), ("Đồng", True), ("chaứo", False), ("khuyến", True),
                                          ("Ngươi", True), ("xyzà", False)])
def test_what_counts_as_a_vietnamese_word(word, ok):
    assert is_vietnamese_word(word) is ok


def test_the_editor_can_name_the_encoding_when_a_short_text_reads_as_two():
    data = tcvn3_encode("Phục vụ")
    assert decode_text(data, where="f", encoding="tcvn3").text == "Phục vụ"
    with pytest.raises(InputError, match=r"^--encoding: unknown encoding 'abc'; use one of utf-8, "):
        decode_text(data, where="f", encoding="abc")
