"""Benchmark: loading a feed and detecting legacy encodings, against the bare libraries in the same run.

Figures: feedparser alone on the feed bytes (baseline) vs loa's parse (bomb check, feedparser, nh3 to plain
text); a first import into SQLite as drafts and a second import that skips every item (guid lookups); and
TCVN3 detection + conversion of a long document vs a bare ``bytes.decode``.
Run:  .venv/bin/python bench/ingest_feed.py   (--quick for a smoke run)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITEM = """<item><title>Tin số {n}: Hội nghị triển khai kế hoạch chuyển đổi số của xã</title>
<link>https://tinh.example/tin/{n}.html</link><guid>tin-{n}</guid><pubDate>Mon, 23 Nov 2026 07:00:00 +0700</pubDate>
<description><![CDATA[<p>Sáng 22/11, <strong>UBND xã</strong> tổ chức hội nghị số {n} về chuyển đổi số.</p>
<script>alert(1)</script><p>Các thôn rà soát hạ tầng truyền thanh cơ sở, hoàn thành trước ngày 31/12.</p>]]>
</description></item>"""


def feed(items: int) -> bytes:
    body = "".join(ITEM.format(n=n) for n in range(items))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tỉnh</title>'
            f"<link>https://tinh.example/</link><description>Tin</description>{body}</channel></rss>").encode()


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small feed: a smoke test, not a measurement")
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    items = 20 if args.quick else args.items

    import feedparser

    from content.db import unit_of_work
    from content.ingest.encodings import decode_text
    from content.ingest.feeds import parse_feed, store_items
    from content.ingest.legacy import tcvn3_encode
    from content.users import add_user
    from loa.settings import load_settings
    from loa.wiring import open_services

    data = feed(items)
    parse_feed(feed(2), where="warm-up")  # imports and first-call setup out of both timings
    bare, _ = timed(lambda: feedparser.parse(data))
    ours, parsed = timed(lambda: parse_feed(data, where="bench"))
    print(f"feed of {items} items, {len(data) / 1024:.0f} KiB")
    print(f"feedparser alone        : {bare * 1000:8.1f} ms")
    print(f"loa parse (+ nh3, text) : {ours * 1000:8.1f} ms   ratio {ours / bare:5.2f} × feedparser")

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config"
        shutil.copytree(ROOT / "config", config)
        services = open_services(load_settings(config, env={}))
        services.init()
        with unit_of_work(services.sessions) as session:
            author = add_user(session, "bench", "editor", now=services.now())

            def load():
                return store_items(session, parsed, source="bench", author=author, now=services.now())

            first, added = timed(load)
            second, again = timed(load)
        services.close()
    print(f"first import (drafts)   : {first * 1000:8.1f} ms   {len(added.added)} added, "
          f"{first / items * 1000:.2f} ms an item")
    print(f"second import (skips)   : {second * 1000:8.1f} ms   {len(again.skipped)} skipped, "
          f"ratio {second / first:5.2f} × the first import")

    text = ("Ủy ban nhân dân xã thông báo lịch tiêm chủng mở rộng cho trẻ em vào sáng thứ Bảy; đề nghị các gia "
            "đình đưa trẻ đến trạm y tế đúng giờ. ") * (20 if args.quick else 1000)
    legacy = tcvn3_encode(text)
    baseline, _ = timed(lambda: legacy.decode("cp1252", "replace"))
    detect, decoded = timed(lambda: decode_text(legacy, where="bench"))
    assert decoded.encoding == "tcvn3"
    print(f"TCVN3 text of {len(legacy) / 1024:.0f} KiB: bytes.decode {baseline * 1000:.2f} ms, "
          f"loa detect+convert {detect * 1000:.1f} ms, ratio {detect / max(baseline, 1e-9):.0f} × bytes.decode "
          f"({len(legacy) / 1048576 / detect:.1f} MiB/s)")


if __name__ == "__main__":
    main()
