"""Benchmark: a national week of printed bulletins, against fpdf2 writing the same text with no layout, same run.

Issue 17's goal: a ratio ≤ 2 and the whole week (3,321 communes) in under 10 minutes on this machine.
Each commune's edition has 12 pieces from 3 campaigns, drawn from a pool of 60 so communes differ.
The baseline makes a PDF with the same embedded fonts and the same text, one ``cell`` per title and
paragraph, without wrapping, grouping, QR codes, headers or page breaks. Both write each PDF atomically to a folder.
Run:  .venv/bin/python bench/print_week.py  (or --quick)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels import Article, Delivery, open_channel
from channels.files import write_atomic
from channels.print import fonts, layout
from content.render.article import make_article

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGNS = ("Phòng chống thiên tai", "Xây dựng nông thôn mới", "Học tập và làm theo tư tưởng Hồ Chí Minh")
SENTENCE = ("Ủy ban nhân dân xã đề nghị bà con chủ động gia cố nhà cửa, chằng chống mái tôn, thu hoạch lúa và "
            "hoa màu trước mùa mưa bão, theo dõi thông báo của Ban chỉ huy phòng chống thiên tai. ")


def pool(size: int) -> list[Article]:
    rng = random.Random(17)
    articles = []
    for n in range(size):
        body = "\n\n".join(SENTENCE * rng.randint(1, 4) for _ in range(rng.randint(1, 3)))
        text = make_article(body)
        articles.append(Article(ref=f"p{n}-r1", title=f"Tin số {n}: thông tin cơ sở tuần này", html=text.html,
                                summary=text.summary, campaign=CAMPAIGNS[n % 3]))
    return articles


def deliveries(communes: int, per_edition: int) -> list[Delivery]:
    rng = random.Random(3321)
    articles = pool(60)
    start = datetime(2026, 11, 23, 7, 0, tzinfo=ZONE)
    return [Delivery(id=f"w48-{n:05d}", station_code=f"{n:05d}", station_name=f"Xã số {n}", outlet="print",
                     start_at=start, end_at=start + timedelta(days=7),
                     articles=tuple(rng.sample(articles, per_edition))) for n in range(communes)]


def baseline(delivery: Delivery, folder: Path) -> None:
    """The same text and fonts in one PDF with no layout work: a cell per title and paragraph, no wrapping."""
    texts = [layout.nfc(a.title) for a in delivery.articles] + [p for a in delivery.articles
                                                              for p in layout.paragraphs_of(a.html)]
    regular, bold = fonts.font_files(texts)  # the same font files the outlet embeds
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_font("serif", "", regular)
    pdf.add_font("serif", "B", bold)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    for article in delivery.articles:
        pdf.set_font("serif", "B", 12)
        pdf.cell(text=layout.nfc(article.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("serif", "", 11)
        for paragraph in layout.paragraphs_of(article.html):
            pdf.cell(text=paragraph, new_x="LMARGIN", new_y="NEXT")
    target = folder / delivery.station_code
    target.mkdir(parents=True, exist_ok=True)
    write_atomic(target / "baseline.pdf", bytes(pdf.output()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 communes instead of 3,321")
    parser.add_argument("--communes", type=int, default=None)
    args = parser.parse_args()
    communes = args.communes or (60 if args.quick else 3321)
    work = deliveries(communes, 12)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        channel = open_channel("print.pdf", {"type": "pdf", "dir": str(folder / "print"),
                                             "header": "TRUNG TÂM VĂN HÓA - THÔNG TIN HUYỆN",
                                             "article_url": "https://congthongtin.example.vn/bai/{ref}"})
        t0 = time.perf_counter()
        fonts.font_files(["ạ"])  # cut the fonts once per process, before either timing
        print(f"fonts cut once per process: {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        for delivery in work:
            baseline(delivery, folder / "baseline")
        base_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pages = sum(channel.deliver(delivery).details["pages"] for delivery in work)
        loa_s = time.perf_counter() - t0
    print(f"communes: {communes}, pieces per edition: 12, pages printed: {pages}")
    print(f"baseline (fpdf2, same text and fonts, no layout): {base_s:.2f} s ({base_s / communes * 1000:.1f} ms each)")
    print(f"print.pdf bulletins (layout, campaigns, QR codes): {loa_s:.2f} s ({loa_s / communes * 1000:.1f} ms each)")
    print(f"ratio loa/baseline: {loa_s / base_s:.2f} (goal ≤ 2)")
    print(f"projected national week (3,321 communes): {loa_s / communes * 3321 / 60:.1f} min (goal < 10)")


if __name__ == "__main__":
    main()
