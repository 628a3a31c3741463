"""The print.pdf outlet: the weekly bulletin reads back exactly, embeds fonts, its QR codes scan, it is mailed once."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from channels import Article, Delivery, PermanentError, TransientError, open_channel
from channels.print.layout import MARGIN
from content.render.article import make_article

from servers.smtp import running_smtp

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
HEADER = "TRUNG TÂM VĂN HÓA - THÔNG TIN VÀ THỂ THAO HUYỆN MINH HỌA"
CAMPAIGNS = ("Phòng chống thiên tai", "Xây dựng nông thôn mới", "")
BODY = ("Ủy ban nhân dân xã đề nghị bà con chủ động gia cố nhà cửa, chằng chống mái tôn, thu hoạch lúa "
        "và hoa màu trước mùa mưa bão; người dân vùng trũng thấp theo dõi thông báo của Ban chỉ huy "
        "phòng chống thiên tai và tìm kiếm cứu nạn, không đi qua ngầm tràn khi nước chảy xiết.")


def piece_text(n: int) -> tuple[str, str]:
    """Title and body of piece ``n``: Vietnamese with every tone mark, two paragraphs, decomposed (NFD) input."""
    title = f"Tin số {n}: Hướng dẫn người dân ứng phó bão số {n % 13 + 1} – Quỹ “Vì người nghèo”"
    body = f"{BODY} Số điện thoại trực ban: 0209.385.{n:04d}.\n\nĐoạn {n}: Mỗi hộ gia đình chuẩn bị đèn pin, nước uống."
    return unicodedata.normalize("NFD", title), unicodedata.normalize("NFD", body)


def delivery(count: int, station: str = "99001", delivery_id: str = "d-print-1") -> Delivery:
    articles = []
    for n in range(count):
        title, body = piece_text(n)
        article = make_article(body)
        articles.append(Article(ref=f"p{n}-r1", title=title, html=article.html, summary=article.summary,
                                campaign=CAMPAIGNS[n % len(CAMPAIGNS)]))
    start = datetime(2026, 11, 23, 7, 0, tzinfo=ZONE)
    return Delivery(id=delivery_id, station_code=station, station_name="Xã Tân Lập", outlet="print",
                    start_at=start, end_at=start + timedelta(days=7), articles=tuple(articles))


def options(tmp_path, **extra) -> dict:
    return {"type": "pdf", "dir": str(tmp_path / "print"), "header": HEADER,
            "article_url": "https://congthongtin.example.vn/bai-viet/{station}/{ref}", **extra}


def squash(text: str) -> str:
    """Whitespace collapsed: a line break where the layout wrapped reads as a space."""
    return " ".join(text.split())


def read_pdf(path) -> PdfReader:
    return PdfReader(io.BytesIO(Path(path).read_bytes()))


def body_text(path) -> str:
    """The text of every page without its running header and page number, pages joined: what a reader reads on."""
    pages = []
    for page in read_pdf(path).pages:
        text = squash(page.extract_text())
        running = f"{HEADER} Xã Tân Lập"
        assert text.startswith(running) and re.search(r" Trang \d+/\d+$", text), text
        pages.append(re.sub(r" Trang \d+/\d+$", "", text[len(running):]))
    return " ".join(pages)


def test_every_title_and_paragraph_reads_back_exactly_in_nfc(tmp_path):
    channel = open_channel("print.pdf", options(tmp_path))
    receipt = channel.deliver(delivery(9))
    flat = squash(body_text(receipt.location))
    assert unicodedata.is_normalized("NFC", flat)
    for n in range(9):
        title, body = (unicodedata.normalize("NFC", part) for part in piece_text(n))
        assert squash(title) in flat
        for paragraph in body.split("\n\n"):
            assert squash(paragraph) in flat
    assert flat.startswith("BẢN TIN TUẦN 23/11/2026 – 29/11/2026")
    # grouped by campaign: each campaign heading once, before its pieces; pieces without one under "Tin khác"
    for heading, first in (("PHÒNG CHỐNG THIÊN TAI", 0), ("XÂY DỰNG NÔNG THÔN MỚI", 1), ("TIN KHÁC", 2)):
        assert flat.count(heading) == 1
        assert flat.index(heading) < flat.index(f"Tin số {first}:")
    assert flat.index("Tin số 3:") < flat.index("XÂY DỰNG NÔNG THÔN MỚI")  # piece 3 is with piece 0


def test_fonts_are_embedded(tmp_path):
    receipt = open_channel("print.pdf", options(tmp_path)).deliver(delivery(3))
    fonts = {}
    for page in read_pdf(receipt.location).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[font["/BaseFont"]] = "/FontFile2" in descriptor
    assert fonts and all(fonts.values()), fonts
    assert sorted(name.partition("+")[2] for name in fonts) == ["NotoSerif", "NotoSerifBold"]


def test_qr_codes_scan_to_the_article_addresses(tmp_path):
    sent = delivery(7)
    receipt = open_channel("print.pdf", options(tmp_path)).deliver(sent)
    found: list[str] = []
    document = pypdfium2.PdfDocument(receipt.location)
    for page in document:
        image = page.render(scale=200 / 72).to_pil()  # a 200 dpi scan of the printed page
        found += [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    expected = [f"https://congthongtin.example.vn/bai-viet/99001/{a.ref}" for a in sent.articles]
    assert sorted(found) == sorted(expected)


def test_by_default_a_qr_code_opens_the_article_page_of_loa_s_feed_portal(tmp_path):
    sent = delivery(2)
    open_channel("portal.feed", {"type": "feed", "dir": str(tmp_path / "feeds"), "link": "https://loa.example.vn/"}
                 ).deliver(replace(sent, outlet="portal"))
    items = json.loads((tmp_path / "feeds" / "_all" / "items.json").read_text())["items"]
    pages = sorted(f"https://loa.example.vn/articles/{item['guid']}" for item in items)
    channel = open_channel("print.pdf", {"type": "pdf", "dir": str(tmp_path / "print"), "header": HEADER,
                                         "article_url": "https://loa.example.vn/articles/{guid}"})
    document = pypdfium2.PdfDocument(channel.deliver(sent).location)
    found = sorted(code.text for code in zxingcpp.read_barcodes(document[0].render(scale=200 / 72).to_pil()))
    assert found == pages and len(found) == 2


def test_a_forty_piece_week_paginates_without_overflow(tmp_path):
    receipt = open_channel("print.pdf", options(tmp_path)).deliver(delivery(40))
    assert receipt.details["pages"] > 5 and receipt.details["pieces"] == 40
    document = pypdfium2.PdfDocument(receipt.location)
    assert len(document) == receipt.details["pages"]
    mm = 72 / 25.4
    for index in range(len(document)):
        page = document[index]
        width, height = page.get_size()
        assert (round(width / mm), round(height / mm)) == (210, 297)  # A4
        text = page.get_textpage()
        for i in range(text.count_rects()):  # every line of text lies inside the page's margins
            left, bottom, right, top = text.get_rect(i)
            line = text.get_text_bounded(left, bottom, right, top)
            assert left >= MARGIN * mm - 1 and right <= width - MARGIN * mm + 1, (index, line)
            assert bottom >= 10 * mm and top <= height - MARGIN * mm + 1  # the page number sits 10 mm up
    flat = body_text(receipt.location)
    assert flat.count("Trang") == 0
    for n in range(40):  # nothing was cut off at a page break
        assert f"0209.385.{n:04d}" in flat and f"Đoạn {n}: Mỗi hộ" in flat


def test_a_retry_rewrites_the_same_file(tmp_path):
    channel = open_channel("print.pdf", options(tmp_path))
    first = channel.deliver(delivery(2))
    again = channel.deliver(delivery(2))
    assert first.location == again.location
    assert sorted(p.name for p in (tmp_path / "print" / "99001").iterdir()) == ["ban-tin-2026-11-23.pdf"]


def test_an_empty_week_or_unsafe_station_is_refused(tmp_path):
    channel = open_channel("print.pdf", options(tmp_path))
    with pytest.raises(PermanentError, match="no articles"):
        channel.deliver(delivery(0))
    with pytest.raises(PermanentError, match="safe"):
        channel.deliver(delivery(1, station="../x"))


def test_bad_settings_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="article_url"):
        open_channel("print.pdf", options(tmp_path, article_url="https://example.vn/bai"))
    with pytest.raises(ValueError, match="smtp"):
        open_channel("print.pdf", options(tmp_path, email="xa@example.vn"))


def test_the_bulletin_is_mailed_once_as_an_attachment_with_a_vietnamese_subject(tmp_path):
    with running_smtp() as (server, mailbox):
        smtp = {"host": server.hostname, "port": server.port, "starttls": False, "sender": "bantin@ttvh.example.vn"}
        channel = open_channel("print.pdf", options(tmp_path, email="ubnd.tanlap@example.vn", smtp=smtp))
        sent = delivery(3)
        receipt = channel.deliver(sent)
        channel.deliver(sent)  # the dispatcher's retry of the same delivery
        assert len(mailbox.messages) == 1
        recipients, message = mailbox.messages[0]
        assert recipients == ["ubnd.tanlap@example.vn"]
        assert message["Subject"] == "Bản tin tuần 23/11/2026 – 29/11/2026 – Xã Tân Lập"
        attachments = list(message.iter_attachments())
        assert [a.get_filename() for a in attachments] == ["ban-tin-2026-11-23.pdf"]
        assert attachments[0].get_content_type() == "application/pdf"
        with open(receipt.location, "rb") as f:
            assert attachments[0].get_content() == f.read()
        assert receipt.details["emailed"] == "ubnd.tanlap@example.vn"


def test_a_busy_mail_server_is_retried_and_a_missing_one_too(tmp_path):
    with running_smtp() as (server, mailbox):
        smtp = {"host": server.hostname, "port": server.port, "starttls": False, "sender": "bantin@ttvh.example.vn"}
        channel = open_channel("print.pdf", options(tmp_path, email="xa@example.vn", smtp=smtp))
        mailbox.refuse_with = "451 4.3.0 thử lại sau"
        with pytest.raises(TransientError, match="451"):
            channel.deliver(delivery(1))
        mailbox.refuse_with = None
        channel.deliver(delivery(1))
        assert len(mailbox.messages) == 1
        port = server.port
    channel = open_channel("print.pdf", options(tmp_path, email="xa@example.vn", smtp={
        "host": "127.0.0.1", "port": port, "starttls": False, "sender": "bantin@ttvh.example.vn"}))
    with pytest.raises(TransientError, match="unreachable"):
        channel.deliver(delivery(1, delivery_id="d-print-2"))


SLOGANS = ("Toàn dân đoàn kết xây dựng nông thôn mới, đô thị văn minh!",
           "Tiết kiệm điện là bảo vệ môi trường và chính mình")


def slogan_delivery() -> Delivery:
    """Two slogans, a long piece of the slogan campaign and a short piece of another campaign."""
    def article(ref: str, text: str, campaign: str) -> Article:
        made = make_article(text)
        return Article(ref=ref, title=text[:30], html=made.html, summary=made.summary, campaign=campaign)
    start = datetime(2026, 11, 27, 7, 0, tzinfo=ZONE)
    return Delivery(id="d-slogans", station_code="99001", station_name="Xã Tân Lập", outlet="print",
                    start_at=start, end_at=start + timedelta(hours=12), articles=(
                        article("s1", SLOGANS[0], "Khẩu hiệu tuyên truyền"),
                        article("long", BODY, "Khẩu hiệu tuyên truyền"),
                        article("other", "Họp thôn tối thứ Bảy.", "Phòng chống thiên tai"),
                        article("s2", unicodedata.normalize("NFD", SLOGANS[1]), "Khẩu hiệu tuyên truyền")))


def test_short_pieces_of_slogan_campaigns_become_a3_posters_that_fit(tmp_path):
    channel = open_channel("print.pdf", options(tmp_path, slogan_campaigns=["Khẩu hiệu tuyên truyền"]))
    receipt = channel.deliver(slogan_delivery())
    assert receipt.details["posters"] == 2 and receipt.details["pieces"] == 4  # the bulletin still has all four
    path = tmp_path / "print" / "99001" / "khau-hieu-2026-11-23.pdf"
    texts = [squash(page.extract_text()) for page in read_pdf(path).pages]
    running = f"{HEADER} – Xã Tân Lập "
    assert [text.removeprefix(running) for text in texts] == list(SLOGANS)
    mm = 72 / 25.4
    document = pypdfium2.PdfDocument(path)
    for page in document:
        width, height = page.get_size()
        assert (round(width / mm), round(height / mm)) == (420, 297)  # A3 landscape
        text = page.get_textpage()
        rects = [text.get_rect(i) for i in range(text.count_rects())]
        assert all(left >= 19 * mm and right <= width - 19 * mm and bottom >= 19 * mm and top <= height - 19 * mm
                   for left, bottom, right, top in rects)
        assert max(top - bottom for left, bottom, right, top in rects) > 25 * mm  # big letters, not a footnote


def test_without_slogan_campaigns_no_posters_are_made(tmp_path):
    receipt = open_channel("print.pdf", options(tmp_path)).deliver(slogan_delivery())
    assert receipt.details["posters"] == 0
    assert [p.name for p in (tmp_path / "print" / "99001").iterdir()] == ["ban-tin-2026-11-23.pdf"]


def test_the_posters_travel_with_the_bulletin_by_mail(tmp_path):
    with running_smtp() as (server, mailbox):
        smtp = {"host": server.hostname, "port": server.port, "starttls": False, "sender": "bantin@ttvh.example.vn"}
        open_channel("print.pdf", options(tmp_path, email="xa@example.vn", smtp=smtp,
                                          slogan_campaigns=["Khẩu hiệu tuyên truyền"])).deliver(slogan_delivery())
        [(_, message)] = mailbox.messages
        assert [a.get_filename() for a in message.iter_attachments()] == ["ban-tin-2026-11-23.pdf",
                                                                          "khau-hieu-2026-11-23.pdf"]


def test_a_missing_font_is_a_clear_permanent_error(tmp_path, monkeypatch):
    from channels.print import fonts

    fonts._cut.cache_clear()
    monkeypatch.setattr(fonts, "REGULAR", tmp_path / "NotoSerif-Regular.ttf")
    try:
        with pytest.raises(PermanentError, match="fonts-noto-core"):
            open_channel("print.pdf", options(tmp_path)).deliver(delivery(1))
    finally:
        fonts._cut.cache_clear()


def test_an_emergency_is_not_printed_and_says_so(tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    from channels import Alert, Delivery, open_channel

    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    channel = open_channel("print.pdf", options(tmp_path))
    receipt = channel.deliver(Delivery(
        id="khan-1", station_code="99001", station_name="Xã Tân Lập", outlet="print", start_at=now,
        end_at=now + timedelta(hours=6), level="emergency",
        alert=Alert(ref="khan", title="Lũ", text="Sơ tán.", issued_at=now)))

    assert receipt.details["ignored"] is True and "emergencies" in receipt.details["reason"]
    assert not (tmp_path / "print").exists()
