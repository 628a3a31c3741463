"""A piece's uploaded image travels in its feed items (RSS enclosure and media:content, Atom enclosure link) as the
640-pixel rendition, at an address built from the request like every link a reader follows (issue 16)."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import feedparser
from PIL import Image

from content.db import unit_of_work
from content.models import User
from content.pieces import approve, submit

from servers.web import csrf_of

TITLE = "Ngày hội đọc sách của xã"


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 30)).save(out, "JPEG")
    return out.getvalue()


def _published_with_image(web) -> None:
    """A piece with a 2400×1600 upload, approved, planned and pushed to the 07:30 portal publication."""
    piece = web.piece(TITLE)
    lan = web.client("lan")
    answer = lan.post(f"/pieces/{piece}/upload", data={"csrf": csrf_of(lan.get(f"/pieces/{piece}").text),
                                                      "kind": "image"},
                      files={"file": ("anh-hoi-sach.jpg", _jpeg(2400, 1600), "image/jpeg")})
    assert answer.status_code == 303, answer.text
    with unit_of_work(web.services.sessions) as session:
        submit(session, piece, actor=session.get(User, web.ids["lan"]), now=web.services.now())
        approve(session, piece, actor=session.get(User, web.ids["hung"]), now=web.services.now())
    web.services.plan(days=1)
    dispatcher = web.services.dispatcher("test")
    try:
        dispatcher.run_once(web.services.now() + timedelta(hours=10))
    finally:
        dispatcher.close()


def test_feed_items_carry_the_resized_image_at_the_address_the_reader_used(web):
    _published_with_image(web)
    reader = web.client()  # feeds need no login
    for path in ("/feeds/99001.rss", "/feeds/all.rss", "/feeds/99001.atom", "/feeds/all.atom"):
        answer = reader.get(path, headers={"host": "10.0.0.7:8080"})
        assert answer.status_code == 200, path
        feed = feedparser.parse(answer.content)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        entry = next(e for e in feed.entries if e.title == TITLE)
        assert entry.link.startswith("http://10.0.0.7:8080/articles/"), entry.link
        enclosures = entry.enclosures
        assert len(enclosures) == 1, (path, enclosures)
        image = enclosures[0]
        assert image.href.startswith("http://10.0.0.7:8080/articles/media/") and image.href.endswith("?w=640")
        assert image.type == "image/jpeg"
        if path.endswith(".rss"):  # media:content says the same, with the size in pixels
            media = entry.media_content[0]
            assert media["url"] == image.href and media["medium"] == "image"
            assert (media["width"], media["height"]) == ("640", "427") and media["filesize"] == image.length
        # the address works: the rendition, as long as announced, never the 2400-pixel upload
        split = urlsplit(image.href)
        picture = reader.get(f"{split.path}?{split.query}")
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
        assert str(len(picture.content)) == image.length
        assert Image.open(io.BytesIO(picture.content)).size == (640, 427)


def test_behind_a_proxy_the_feed_links_follow_the_forwarded_address(web):
    _published_with_image(web)
    answer = web.client().get("/feeds/99001.rss", headers={
        "host": "loa:8080", "x-forwarded-proto": "https", "x-forwarded-host": "loa.xa-phu-xuan.gov.vn"})
    entry = feedparser.parse(answer.content).entries[0]
    assert entry.link.startswith("https://loa.xa-phu-xuan.gov.vn/articles/")
    assert entry.enclosures[0].href.startswith("https://loa.xa-phu-xuan.gov.vn/articles/media/")
    assert "loa:8080" not in answer.text and "127.0.0.1" not in answer.text


def test_the_article_page_shows_the_resized_image(web):
    _published_with_image(web)
    reader = web.client()
    entry = feedparser.parse(reader.get("/feeds/99001.rss").content).entries[0]
    page = reader.get(urlsplit(entry.link).path).text
    src = page.split('class="piece-image" src="', 1)[1].split('"', 1)[0]
    assert src.endswith("?w=640")
    assert Image.open(io.BytesIO(reader.get(src).content)).size == (640, 427)
    assert reader.get(src.replace("w=640", "w=500")).status_code == 404  # only the sizes pages use


def test_the_feed_files_on_disk_enclose_the_same_image_under_the_configured_link(web):
    """A portal that serves rss.xml/atom.xml straight from the folder gives its readers the image too: the same
    640-pixel rendition, as long, under the link configured for the feed (its default: loa's own address)."""
    from channels.portal.feed import feed_paths

    _published_with_image(web)
    options = next(s.portal for s in web.services.settings.stations if s.code == "99001")
    for served_at, code in (("/feeds/99001.rss", "99001"), ("/feeds/all.rss", "_all")):
        served = next(e for e in feedparser.parse(web.client().get(served_at).content).entries
                      if e.title == TITLE).enclosures[0]
        for path in feed_paths(options.dir, code):
            feed = feedparser.parse(path.read_bytes())
            assert not feed.bozo, (path, feed.get("bozo_exception"))
            [image] = next(e for e in feed.entries if e.title == TITLE).enclosures
            split = urlsplit(served.href)
            assert image.href == f"{options.link.rstrip('/')}{split.path}?{split.query}", path
            assert (image.length, image.type) == (served.length, "image/jpeg")
