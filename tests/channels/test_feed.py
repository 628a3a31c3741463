"""The feed portal adapter publishes readable RSS and Atom per station and for all stations."""

from __future__ import annotations

import json
import threading
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest

from channels import Article, Delivery, PermanentError, Picture
from channels.portal.feed import FeedPortal, feed_paths, item_guid, load_items
from channels.portal.feed_media import enclosure_url

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2025, 3, 14, 7, 0, tzinfo=VN)

TIEM_CHUNG = Article(
    ref="tiem-chung",
    title="Lịch tiêm chủng mở rộng tháng 3",
    html="<p>Trạm y tế xã tổ chức tiêm chủng vào <strong>ngày 20/3</strong>.</p>",
    summary="Tiêm chủng ngày 20/3 tại trạm y tế xã.",
    campaign="Y tế cộng đồng",
)
# The same kind of title typed on a keyboard that produces decomposed (NFD) Vietnamese.
PHONG_LU = Article(
    ref="phong-lu",
    title=unicodedata.normalize("NFD", "Chủ động phòng chống lũ quét"),
    html="<p>Không qua ngầm tràn khi nước lên.</p>",
    summary="Không qua ngầm tràn.",
)


def delivery(
    delivery_id: str,
    *articles: Article,
    code: str = "xa-an-binh",
    name: str = "Xã An Bình",
    start: datetime = START,
) -> Delivery:
    return Delivery(
        id=delivery_id,
        station_code=code,
        station_name=name,
        outlet="cong-thong-tin",
        start_at=start,
        end_at=start + timedelta(days=1),
        articles=articles or (TIEM_CHUNG,),
    )


def portal(tmp_path: Path, keep: int = 50) -> FeedPortal:
    return FeedPortal(
        FeedPortal.Options(
            type="feed", dir=tmp_path, title="Cổng thông tin", link="https://loa.example.vn/", keep=keep
        )
    )


def parsed(tmp_path: Path, code: str) -> tuple[feedparser.FeedParserDict, feedparser.FeedParserDict]:
    rss, atom = feed_paths(tmp_path, code)
    return feedparser.parse(rss.read_bytes()), feedparser.parse(atom.read_bytes())


def test_rss_and_atom_carry_the_articles_in_vietnamese(tmp_path: Path) -> None:
    receipt = portal(tmp_path).deliver(delivery("d-1", TIEM_CHUNG, PHONG_LU))

    rss_path, _ = feed_paths(tmp_path, "xa-an-binh")
    assert receipt.location == str(rss_path)
    assert receipt.details["items"] == 2
    for feed in parsed(tmp_path, "xa-an-binh"):
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.feed.title == "Cổng thông tin – Xã An Bình"
        titles = [e.title for e in feed.entries]
        assert titles == ["Lịch tiêm chủng mở rộng tháng 3", "Chủ động phòng chống lũ quét"]
        assert all(unicodedata.is_normalized("NFC", t) for t in titles)
        first = feed.entries[0]
        guid = item_guid("d-1", "tiem-chung")
        assert first.id == f"urn:uuid:{guid}"
        assert first.link == f"https://loa.example.vn/articles/{guid}"
        assert first.summary == "Tiêm chủng ngày 20/3 tại trạm y tế xã."
        assert "<strong>ngày 20/3</strong>" in first.content[0].value
        assert [t.term for t in first.tags] == ["Y tế cộng đồng"]
        assert datetime(*first.published_parsed[:6]) == datetime(2025, 3, 14, 0, 0)  # 07:00 +07 in UTC


def test_redelivery_does_not_duplicate_items(tmp_path: Path) -> None:
    feed_portal = portal(tmp_path)
    first = feed_portal.deliver(delivery("d-1", TIEM_CHUNG, PHONG_LU))
    again = feed_portal.deliver(delivery("d-1", TIEM_CHUNG, PHONG_LU))

    assert first.details["guids"] == again.details["guids"]
    for code in ("xa-an-binh", "_all"):
        assert len(load_items(tmp_path, code)) == 2
        for feed in parsed(tmp_path, code):
            assert len(feed.entries) == 2


def test_the_all_feed_gathers_every_station_newest_first(tmp_path: Path) -> None:
    feed_portal = portal(tmp_path)
    feed_portal.deliver(delivery("d-1", TIEM_CHUNG))
    later = START + timedelta(hours=2)
    feed_portal.deliver(delivery("d-2", PHONG_LU, code="xa-binh-minh", name="Xã Bình Minh", start=later))

    for feed in parsed(tmp_path, "_all"):
        assert [e.title for e in feed.entries] == [
            "Chủ động phòng chống lũ quét",
            "Lịch tiêm chủng mở rộng tháng 3",
        ]
    assert [i["station"] for i in load_items(tmp_path, "_all")] == ["xa-binh-minh", "xa-an-binh"]
    assert [i["ref"] for i in load_items(tmp_path, "xa-an-binh")] == ["tiem-chung"]
    assert [i["ref"] for i in load_items(tmp_path, "xa-binh-minh")] == ["phong-lu"]
    document = json.loads((tmp_path / "xa-binh-minh" / "items.json").read_text(encoding="utf-8"))
    assert document["station_name"] == "Xã Bình Minh"


def test_the_all_feed_lists_an_article_sent_to_several_communes_once(tmp_path: Path) -> None:
    feed_portal = portal(tmp_path)
    communes = [("xa-an-binh", "Xã An Bình"), ("xa-binh-minh", "Xã Bình Minh"), ("xa-cam-lo", "Xã Cam Lộ")]
    for n, (code, name) in enumerate(communes):
        feed_portal.deliver(delivery(f"d-{n}", TIEM_CHUNG, PHONG_LU, code=code, name=name,
                                     start=START + timedelta(minutes=30 * n)))
    feed_portal.deliver(delivery("d-1", TIEM_CHUNG, PHONG_LU, code="xa-binh-minh", name="Xã Bình Minh",
                                 start=START + timedelta(minutes=30)))  # a retry of one of them

    for feed in parsed(tmp_path, "_all"):
        assert not feed.bozo, feed.get("bozo_exception")
        assert sorted(e.title for e in feed.entries) == ["Chủ động phòng chống lũ quét",
                                                           "Lịch tiêm chủng mở rộng tháng 3"]
        tiem_chung = next(e for e in feed.entries if e.title.startswith("Lịch tiêm chủng"))
        assert tiem_chung.id == f"urn:uuid:{item_guid('_all', 'tiem-chung')}"
        assert [t.term for t in tiem_chung.tags] == ["Y tế cộng đồng", "Xã An Bình", "Xã Bình Minh", "Xã Cam Lộ"]
        assert datetime(*tiem_chung.published_parsed[:6]) == datetime(2025, 3, 14, 0, 0)  # the first publication
    [item] = [i for i in load_items(tmp_path, "_all") if i["ref"] == "tiem-chung"]
    assert item["station_name"] == "Xã An Bình, Xã Bình Minh, Xã Cam Lộ"
    # each commune's own feed still has its own item, which the all-stations item points back to
    for n, (code, _) in enumerate(communes):
        [own] = [i for i in load_items(tmp_path, code) if i["ref"] == "tiem-chung"]
        assert own["guid"] == item_guid(f"d-{n}", "tiem-chung")
    assert [p["guid"] for p in item["places"]] == [item_guid(f"d-{n}", "tiem-chung") for n in range(3)]


def test_only_the_newest_items_are_kept(tmp_path: Path) -> None:
    feed_portal = portal(tmp_path, keep=3)
    for n in (2, 5, 1, 4, 3):
        article = Article(f"bai-{n}", f"Bài số {n}", f"<p>Nội dung {n}</p>", f"Tóm tắt {n}")
        feed_portal.deliver(delivery(f"d-{n}", article, start=START + timedelta(days=n)))

    assert [i["ref"] for i in load_items(tmp_path, "xa-an-binh")] == ["bai-5", "bai-4", "bai-3"]
    for feed in parsed(tmp_path, "_all"):
        assert [e.title for e in feed.entries] == ["Bài số 5", "Bài số 4", "Bài số 3"]


def test_concurrent_deliveries_lose_no_item(tmp_path: Path) -> None:
    per_thread = 8
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        feed_portal = portal(tmp_path, keep=1000)
        code = ("xa-an-binh", "xa-binh-minh")[thread % 2]
        try:
            for n in range(per_thread):
                article = Article(f"bai-{thread}-{n}", f"Bài {thread}.{n}", "<p>…</p>", "Tóm tắt")
                start = START + timedelta(minutes=thread * 100 + n)
                feed_portal.deliver(delivery(f"d-{thread}-{n}", article, code=code, start=start))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(load_items(tmp_path, "xa-an-binh")) == 2 * per_thread
    assert len(load_items(tmp_path, "xa-binh-minh")) == 2 * per_thread
    assert len(load_items(tmp_path, "_all")) == 4 * per_thread
    rss, atom = parsed(tmp_path, "_all")
    assert len(rss.entries) == len(atom.entries) == 4 * per_thread


def test_article_images_are_copied_beside_the_feed(tmp_path: Path) -> None:
    image = tmp_path / "anh.jpg"
    image.write_bytes(b"jpeg bytes")
    article = Article("co-anh", "Bài có ảnh", "<p>Ảnh</p>", "Ảnh", image_path=image)

    portal(tmp_path).deliver(delivery("d-1", article))

    [item] = load_items(tmp_path, "_all")
    assert (tmp_path / item["image"]).read_bytes() == b"jpeg bytes"


def test_the_feed_files_enclose_the_image_as_the_served_feeds_do(tmp_path: Path) -> None:
    """rss.xml and atom.xml carry the image's 640-pixel rendition (as measured when published) at loa's address
    for it, the one ``/feeds/*.rss`` gives (``enclosure_url``); with no absolute address configured, none."""
    image, rendition = tmp_path / "anh.jpg", tmp_path / "anh-640.jpg"
    image.write_bytes(b"jpeg bytes")
    rendition.write_bytes(b"x" * 1234)
    article = Article("co-anh", "Bài có ảnh", "<p>Ảnh</p>", "Ảnh", image_path=image,
                      feed_image=Picture(rendition, 640, 427, "image/jpeg"))
    portal(tmp_path).deliver(delivery("d-1", article))
    [item] = load_items(tmp_path, "xa-an-binh")
    name = item["image"].rsplit("/", 1)[1]
    url = f"https://loa.example.vn/articles/media/xa-an-binh/{name}?w=640"
    assert enclosure_url("https://loa.example.vn/", item) == url
    for code in ("xa-an-binh", "_all"):
        rss, atom = parsed(tmp_path, code)
        assert not rss.bozo and not atom.bozo
        [enclosure] = rss.entries[0].enclosures
        assert (enclosure.href, enclosure.length, enclosure.type) == (url, "1234", "image/jpeg")
        media = rss.entries[0].media_content[0]
        assert (media["url"], media["width"], media["height"]) == (url, "640", "427")
        [link] = atom.entries[0].enclosures
        assert (link.href, link.length, link.type) == (url, "1234", "image/jpeg")

    local = tmp_path / "local"
    FeedPortal(FeedPortal.Options(type="feed", dir=local, link="/")).deliver(delivery("d-1", article))
    rss, atom = parsed(local, "xa-an-binh")
    assert rss.entries[0].enclosures == [] and atom.entries[0].enclosures == []


def test_bad_requests_are_refused(tmp_path: Path) -> None:
    empty = Delivery("d-1", "xa-an-binh", "Xã An Bình", "web", START, START)
    with pytest.raises(PermanentError, match="no articles"):
        portal(tmp_path).deliver(empty)
    with pytest.raises(PermanentError, match="not a safe file name"):
        portal(tmp_path).deliver(delivery("d-2", code="_all"))
    with pytest.raises(ValueError):
        feed_paths(tmp_path, "../x")
    assert feed_paths(tmp_path, "_all") == (tmp_path / "_all" / "rss.xml", tmp_path / "_all" / "atom.xml")


def test_a_summary_with_markup_reaches_readers_as_text_not_as_markup(tmp_path: Path) -> None:
    """RSS <description> is HTML: a plain-text summary is escaped as HTML and then as XML, so a reader that
    unescapes once and renders HTML shows the characters "<b>" instead of bold text or a running script."""
    import dataclasses
    import xml.etree.ElementTree as ET

    text = 'Giá <b>đậm</b> & <script>alert("x")</script> <img src=x onerror=alert(1)>'
    article = dataclasses.replace(TIEM_CHUNG, summary=text)
    portal(tmp_path).deliver(delivery("d-1", article))
    rss, atom = feed_paths(tmp_path, "xa-an-binh")
    description = ET.parse(rss).find("channel/item/description")
    assert description is not None and "<" not in description.text and "&lt;b&gt;" in description.text
    summary = ET.parse(atom).find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    assert summary is not None and summary.get("type") == "html" and "<" not in summary.text
    for feed in parsed(tmp_path, "xa-an-binh"):  # a real reader: no element, no script, the text intact
        shown = feed.entries[0].summary
        assert "<b>" not in shown and "<script" not in shown and "<img" not in shown
        assert "&lt;b&gt;đậm&lt;/b&gt;" in shown


def test_a_withdrawal_takes_the_article_out_of_both_feeds_at_once(tmp_path: Path) -> None:
    feed_portal = portal(tmp_path)
    image = tmp_path / "anh.png"
    image.write_bytes(b"png bytes")
    with_image = Article(TIEM_CHUNG.ref, TIEM_CHUNG.title, TIEM_CHUNG.html, TIEM_CHUNG.summary, image_path=image)
    feed_portal.deliver(delivery("d-1", with_image, PHONG_LU))
    feed_portal.deliver(delivery("d-2", with_image, code="xa-binh-minh", name="Xã Bình Minh"))

    receipt = feed_portal.withdraw(delivery("d-1", with_image))  # the piece retired: An Bình's publication

    assert receipt.details["removed"] == [item_guid("d-1", "tiem-chung")]
    assert [i["ref"] for i in load_items(tmp_path, "xa-an-binh")] == ["phong-lu"]
    for feed in parsed(tmp_path, "xa-an-binh"):
        assert not feed.bozo and [e.title for e in feed.entries] == ["Chủ động phòng chống lũ quét"]
    [kept] = [i for i in load_items(tmp_path, "_all") if i["ref"] == "tiem-chung"]  # Bình Minh's stays
    assert [p["code"] for p in kept["places"]] == ["xa-binh-minh"] and kept["station_name"] == "Xã Bình Minh"
    assert (tmp_path / kept["image"]).read_bytes() == b"png bytes"  # Bình Minh's own copy of the image
    assert not list((tmp_path / "xa-an-binh" / "media").iterdir())  # nothing refers to An Bình's copy any more

    feed_portal.withdraw(delivery("d-2", with_image, code="xa-binh-minh", name="Xã Bình Minh"))
    assert [i["ref"] for i in load_items(tmp_path, "_all")] == ["phong-lu"]
    before = (tmp_path / "_all" / "rss.xml").read_bytes()
    feed_portal.withdraw(delivery("d-2", with_image, code="xa-binh-minh", name="Xã Bình Minh"))  # a retry
    assert (tmp_path / "_all" / "rss.xml").read_bytes() == before


def emergency(delivery_id: str, moment: datetime, *, code: str = "xa-an-binh", name: str = "Xã An Bình",
              all_clear: bool = False, repeat: int = 0, ended: bool = False,
              text: str = "Lũ quét trên suối Nậm Mu.\n\nSơ tán ngay.") -> Delivery:
    from channels import Alert

    return Delivery(id=delivery_id, station_code=code, station_name=name, outlet="cong-thong-tin",
                    start_at=moment, end_at=moment + timedelta(hours=6), level="emergency",
                    alert=Alert(ref="lu-1", title="Cảnh báo lũ quét", text=text, issued_at=START + timedelta(hours=1),
                                all_clear=all_clear or ended, repeat=repeat, ended=ended))


def test_an_emergency_that_ran_out_leaves_the_top_marked_no_longer_in_force_and_nothing_is_published(
        tmp_path: Path) -> None:
    feeds = portal(tmp_path)
    feeds.deliver(emergency("khan-a", START + timedelta(hours=1)))
    feeds.deliver(delivery("trua", TIEM_CHUNG, start=START + timedelta(hours=2)))  # newer, yet under the emergency
    assert [bool(i.get("emergency")) for i in load_items(tmp_path, "xa-an-binh")] == [True, False]
    before = [i["guid"] for i in load_items(tmp_path, "xa-an-binh")]
    receipt = feeds.deliver(emergency("het-han-a", START + timedelta(hours=3), ended=True))
    feeds.deliver(emergency("het-han-a", START + timedelta(hours=3), ended=True))  # a retry: marked once
    assert receipt.delivery_id == "het-han-a" and receipt.details["ended"] is True

    for station in ("xa-an-binh", "_all"):
        items = load_items(tmp_path, station)
        assert [i["title"] for i in items] == [TIEM_CHUNG.title, "[Hết hiệu lực] KHẨN CẤP: Cảnh báo lũ quét"]
        warning = items[1]
        assert warning["emergency"] is False and warning["html"].count("Hết hiệu lực</strong> lúc 10:00") == 1
        assert "Hết cảnh báo" not in warning["html"]
    assert sorted(i["guid"] for i in load_items(tmp_path, "xa-an-binh")) == sorted(before)  # no new item
    rss, _ = feed_paths(tmp_path, "xa-an-binh")
    assert feedparser.parse(rss.read_bytes()).entries[0].title == TIEM_CHUNG.title
    feeds.deliver(emergency("het-han-b", START + timedelta(hours=3), code="xa-chua-co", name="Xã Chưa Có",
                            ended=True))  # a commune whose feed never had it: nothing to take down, no error
    assert not (tmp_path / "xa-chua-co").exists()


def test_an_emergency_is_first_in_both_feeds_until_its_all_clear_takes_it_off_the_top(tmp_path: Path) -> None:
    feeds = portal(tmp_path)
    feeds.deliver(delivery("sang", TIEM_CHUNG))
    receipt = feeds.deliver(emergency("khan-a", START + timedelta(hours=1)))
    feeds.deliver(emergency("khan-b", START + timedelta(hours=1), code="xa-binh-an", name="Xã Bình An"))
    feeds.deliver(delivery("chieu", PHONG_LU, start=START + timedelta(hours=5)))  # newer, yet after the emergency
    feeds.deliver(emergency("khan-a-lap-1", START + timedelta(hours=1, minutes=15), repeat=1))  # the same item

    assert receipt.delivery_id == "khan-a"
    station = load_items(tmp_path, "xa-an-binh")
    assert [i["title"] for i in station] == ["KHẨN CẤP: Cảnh báo lũ quét", unicodedata.normalize(
        "NFC", PHONG_LU.title), TIEM_CHUNG.title]
    assert station[0]["emergency"] is True and "<p>Sơ tán ngay.</p>" in station[0]["html"]
    rss, _ = feed_paths(tmp_path, "xa-an-binh")
    assert feedparser.parse(rss.read_bytes()).entries[0].title == "KHẨN CẤP: Cảnh báo lũ quét"
    everywhere = load_items(tmp_path, "_all")
    assert everywhere[0]["title"] == "KHẨN CẤP: Cảnh báo lũ quét"
    assert [p["code"] for p in everywhere[0]["places"]] == ["xa-an-binh", "xa-binh-an"]

    for code, name in (("xa-an-binh", "Xã An Bình"), ("xa-binh-an", "Xã Bình An")):
        feeds.deliver(emergency(f"het-{code}", START + timedelta(hours=7), code=code, name=name, all_clear=True,
                                text="Nước đã rút."))
    feeds.deliver(emergency("het-xa-an-binh", START + timedelta(hours=7), all_clear=True, text="Nước đã rút."))

    station = load_items(tmp_path, "xa-an-binh")
    assert [i["title"] for i in station] == ["Hết cảnh báo: Cảnh báo lũ quét", unicodedata.normalize(
        "NFC", PHONG_LU.title), "[Hết cảnh báo] KHẨN CẤP: Cảnh báo lũ quét", TIEM_CHUNG.title]
    warning = station[2]
    assert warning["emergency"] is False and warning["html"].count("Hết cảnh báo</strong> lúc 14:00") == 1
    assert [i["title"] for i in load_items(tmp_path, "_all")][:3] == [
        "Hết cảnh báo: Cảnh báo lũ quét", unicodedata.normalize("NFC", PHONG_LU.title),
        "[Hết cảnh báo] KHẨN CẤP: Cảnh báo lũ quét"]
