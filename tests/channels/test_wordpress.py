"""The WordPress portal adapter against a real WordPress: scheduled posts, updates instead of duplicates, errors."""

from __future__ import annotations

import dataclasses
import http.server
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from channels import Article, Delivery, PermanentError, TransientError, open_channel
from channels.portal.wordpress import WordPressPortal, post_slug
from channels.signing import verify

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD_ENV = "LOA_TEST_WP_PASSWORD"

ARTICLE = Article(
    ref="piece-7-r1",
    title="Tuần lễ hưởng ứng học tập suốt đời",
    html="<p>Mời bà con đến <strong>thư viện xã</strong> đọc sách.</p>",
    summary="Mời bà con đến thư viện xã đọc sách.",
    campaign="Tuần lễ hưởng ứng học tập suốt đời",
)


def delivery(delivery_id: str, start_at: datetime, *articles: Article) -> Delivery:
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="portal",
                    start_at=start_at, end_at=start_at + timedelta(hours=1), articles=articles or (ARTICLE,))


def in_days(days: int) -> datetime:
    """A local 07:30 ``days`` from today (real time: WordPress schedules by its own clock)."""
    day = datetime.now(VN).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 7, 30, tzinfo=VN)


@pytest.fixture
def portal(wordpress, monkeypatch) -> Iterator[WordPressPortal]:
    monkeypatch.setenv(PASSWORD_ENV, wordpress.password)
    channel = open_channel("portal.wordpress", {"type": "wordpress", "url": wordpress.url, "user": wordpress.user,
                                                "password_env": PASSWORD_ENV, "campaign_categories": True})
    yield channel
    channel.close()


def test_an_article_becomes_a_post_scheduled_at_the_publication_time(wordpress, portal) -> None:
    start = in_days(30)

    receipt = portal.deliver(delivery("d-sched-1", start))

    [post] = wordpress.posts(slug=post_slug("d-sched-1", ARTICLE.ref))
    assert post["status"] == "future"
    assert post["date_gmt"] == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert post["title"]["raw"] == ARTICLE.title
    assert "<strong>thư viện xã</strong>" in post["content"]["raw"]
    assert post["excerpt"]["raw"] == ARTICLE.summary
    assert receipt.remote_id == str(post["id"])
    assert receipt.status == 201
    assert receipt.details["posts"][0]["status"] == "future"


def test_a_retry_updates_the_same_post_instead_of_adding_one(wordpress, portal) -> None:
    start = in_days(31)
    first = portal.deliver(delivery("d-retry-1", start))
    # the answer was lost, say, and the dispatcher tries again; or a fresh process (after a crash) does
    again = portal.deliver(delivery("d-retry-1", start))
    fresh = open_channel("portal.wordpress", portal.options)
    third = fresh.deliver(delivery("d-retry-1", start))

    posts = [p for p in wordpress.posts(search="Tuần lễ") if p["slug"] == post_slug("d-retry-1", ARTICLE.ref)]
    assert len(posts) == 1
    assert first.remote_id == again.remote_id == third.remote_id == str(posts[0]["id"])
    assert [first.details["posts"][0]["updated"], again.details["posts"][0]["updated"]] == [False, True]


def test_a_withdrawal_trashes_the_post_and_a_retry_trashes_nothing_twice(wordpress, portal) -> None:
    start = in_days(32)
    other = dataclasses.replace(ARTICLE, ref="piece-8-r1", title="Bài khác vẫn đăng")
    portal.deliver(delivery("d-gone-1", start, ARTICLE, other))

    receipt = portal.withdraw(delivery("d-gone-1", start, ARTICLE))  # only the withdrawn piece

    slug = post_slug("d-gone-1", ARTICLE.ref)
    [post] = wordpress.posts(slug=f"{slug}__trashed", status="trash")  # WordPress renames a trashed post's slug
    assert receipt.details["trashed"] == [{"id": post["id"], "slug": slug, "ref": ARTICLE.ref, "status": "trash"}]
    assert not wordpress.posts(slug=post_slug("d-gone-1", ARTICLE.ref))
    [kept] = wordpress.posts(slug=post_slug("d-gone-1", other.ref))
    assert kept["status"] == "future"
    assert portal.withdraw(delivery("d-gone-1", start, ARTICLE)).details["trashed"] == []


def test_a_publication_time_already_past_publishes_at_once(wordpress, portal) -> None:
    start = datetime.now(VN) - timedelta(hours=2)

    portal.deliver(delivery("d-past-1", start))

    [post] = wordpress.posts(slug=post_slug("d-past-1", ARTICLE.ref))
    assert post["status"] == "publish"


def test_each_article_is_its_own_post_in_the_campaign_category(wordpress, portal) -> None:
    other = Article("piece-8-r2", "Gương sáng khuyến học", "<p>Ông Nguyễn Văn A</p>", "Ông Nguyễn Văn A",
                    campaign=ARTICLE.campaign)

    receipt = portal.deliver(delivery("d-two-1", in_days(32), ARTICLE, other))

    ids = receipt.remote_id.split(",")
    assert len(set(ids)) == 2
    posts = {p["slug"]: p for p in wordpress.posts(include=",".join(ids))}
    assert set(posts) == {post_slug("d-two-1", ARTICLE.ref), post_slug("d-two-1", other.ref)}
    [category] = {tuple(p["categories"]) for p in posts.values()}
    named = requests.get(f"{wordpress.api}/categories/{category[0]}", timeout=30).json()
    assert named["name"] == ARTICLE.campaign
    # a second delivery of the same campaign reuses the category, it does not create another
    portal.deliver(delivery("d-two-2", in_days(33)))
    same = requests.get(f"{wordpress.api}/categories", params={"search": "học tập suốt đời"}, timeout=30).json()
    assert [c["id"] for c in same] == [category[0]]


def _png(path: Path, rgb: tuple[int, int, int]) -> Path:
    """A valid 2×2 PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def test_the_article_image_becomes_the_featured_image_uploaded_once(wordpress, portal, tmp_path) -> None:
    image = _png(tmp_path / "thu-vien.png", (200, 30, 30))
    with_image = dataclasses.replace(ARTICLE, image_path=image)

    portal.deliver(delivery("d-img-1", in_days(34), with_image))
    portal.deliver(delivery("d-img-2", in_days(35), with_image))

    [first] = wordpress.posts(slug=post_slug("d-img-1", ARTICLE.ref))
    [second] = wordpress.posts(slug=post_slug("d-img-2", ARTICLE.ref))
    assert first["featured_media"] and first["featured_media"] == second["featured_media"]
    media = requests.get(f"{wordpress.api}/media/{first['featured_media']}", timeout=30).json()
    assert media["mime_type"] == "image/png"
    assert (wordpress.uploads / media["media_details"]["file"]).read_bytes() == image.read_bytes()


def test_a_wrong_application_password_is_a_permanent_error(wordpress, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "abcd efgh ijkl mnop qrst uvwx")
    channel = open_channel("portal.wordpress", {"type": "wordpress", "url": wordpress.url, "user": wordpress.user,
                                                "password_env": PASSWORD_ENV})

    with pytest.raises(PermanentError, match="401"):
        channel.deliver(delivery("d-badpw-1", in_days(30)))


def test_a_missing_password_variable_is_named(wordpress, monkeypatch) -> None:
    monkeypatch.delenv("LOA_NO_SUCH_VARIABLE", raising=False)
    channel = open_channel("portal.wordpress", {"type": "wordpress", "url": wordpress.url, "user": wordpress.user,
                                                "password_env": "LOA_NO_SUCH_VARIABLE"})

    with pytest.raises(PermanentError, match="LOA_NO_SUCH_VARIABLE"):
        channel.deliver(delivery("d-noenv-1", in_days(30)))


class _Receiver(http.server.ThreadingHTTPServer):
    """A stand-in site that answers every request with one canned status, remembering what it got."""

    daemon_threads = True

    def __init__(self, status: int, headers: dict[str, str], body: bytes, hang: bool = False) -> None:
        self.status, self.extra, self.body, self.hang = status, headers, body, hang
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Receiver

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        if self.server.hang:
            self.server.release.wait(10)
            return
        self.send_response(self.server.status)
        for name, value in self.server.extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver(request) -> Iterator[_Receiver]:
    status, headers, body, hang = request.param
    server = _Receiver(status, headers, body, hang)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def _site(url: str, monkeypatch, **extra) -> WordPressPortal:
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    return open_channel("portal.wordpress", {"type": "wordpress", "url": url, "user": "u",
                                             "password_env": PASSWORD_ENV, "read_timeout_s": 0.5, **extra})


@pytest.mark.parametrize("receiver", [(503, {"Retry-After": "120"}, b"busy", False)], indirect=True)
def test_a_busy_site_is_transient_and_its_retry_after_is_kept(receiver, monkeypatch) -> None:
    with pytest.raises(TransientError) as caught:
        _site(receiver.url, monkeypatch).deliver(delivery("d-busy-1", in_days(30)))
    assert caught.value.retry_after == 120


@pytest.mark.parametrize("receiver", [(429, {"Retry-After": "7"}, b"slow down", False)], indirect=True)
def test_too_many_requests_is_transient(receiver, monkeypatch) -> None:
    with pytest.raises(TransientError) as caught:
        _site(receiver.url, monkeypatch).deliver(delivery("d-429-1", in_days(30)))
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("receiver", [(200, {}, b"", True)], indirect=True)
def test_a_site_that_accepts_and_hangs_times_out_as_transient(receiver, monkeypatch) -> None:
    with pytest.raises(TransientError, match="timed out"):
        _site(receiver.url, monkeypatch).deliver(delivery("d-hang-1", in_days(30)))


@pytest.mark.parametrize("receiver", [(200, {"Content-Type": "application/json"}, b"[]", False)], indirect=True)
def test_pushes_carry_the_idempotency_key_and_a_valid_signature(receiver, monkeypatch) -> None:
    monkeypatch.setenv("LOA_TEST_WP_SECRET", "s3cret")
    site = _site(receiver.url, monkeypatch, secret_env="LOA_TEST_WP_SECRET")
    # the stand-in answers "[]" to everything: the post lookup finds nothing, the create has no id
    with pytest.raises(PermanentError, match="no post id"):
        site.deliver(delivery("d-signed-1", in_days(30)))
    lookup, create = receiver.seen
    assert lookup[0] == "GET" and "slug=" + post_slug("d-signed-1", ARTICLE.ref) in lookup[1]
    method, path, headers, body = create
    assert (method, path) == ("POST", "/wp-json/wp/v2/posts")
    assert headers["Idempotency-Key"] == "d-signed-1"
    assert verify(body, "s3cret", headers, now=int(datetime.now().timestamp()))
    assert headers["Authorization"].startswith("Basic ")


def test_a_site_that_is_down_is_transient(monkeypatch) -> None:
    with pytest.raises(TransientError, match="cannot connect"):
        _site("http://127.0.0.1:9", monkeypatch).deliver(delivery("d-down-1", in_days(30)))


def test_a_category_made_meanwhile_by_another_worker_is_used(wordpress, portal) -> None:
    name = "Phòng chống thiên tai"
    made = requests.post(f"{wordpress.api}/categories", auth=(wordpress.user, wordpress.password),
                         json={"name": name}, timeout=30).json()
    portal.http.session.auth = (wordpress.user, wordpress.password)
    assert portal._category(name, "d-cat-1", None) == made["id"]  # found by its name
    portal._category_ids.clear()
    # now the search misses it, as when another worker creates it between our search and our create
    original = portal.http.session.request

    def search_misses(method, url, **kwargs):
        if method == "GET" and url.endswith("/categories"):
            kwargs["params"] = {**kwargs["params"], "search": "không-có-gì-như-thế"}
        return original(method, url, **kwargs)

    portal.http.session.request = search_misses
    assert portal._category(name, "d-cat-2", None) == made["id"]


def emergency(delivery_id: str, moment: datetime, *, all_clear: bool = False, repeat: int = 0,
              text: str = "Nước sông Chảy lên nhanh.\n\nBà con vùng trũng sơ tán ngay lên điểm cao.",
              ref: str = "khan-wp-1", ended: bool = False) -> Delivery:
    from channels import Alert

    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="portal",
                    start_at=moment, end_at=moment + timedelta(hours=6), level="emergency",
                    alert=Alert(ref=ref, title="Cảnh báo lũ quét", text=text,
                                issued_at=moment, all_clear=all_clear or ended, repeat=repeat, ended=ended))


def test_an_emergency_that_ran_out_is_unstuck_and_marked_with_no_all_clear_post(wordpress, portal) -> None:
    from channels.portal.wordpress import alert_slug

    issued = datetime.now(VN).replace(microsecond=0)
    portal.deliver(emergency("khan-wp-2", issued, ref="khan-wp-2"))
    ended_at = issued + timedelta(hours=1)
    receipt = portal.deliver(emergency("khan-wp-2-end", ended_at, ref="khan-wp-2", ended=True))
    portal.deliver(emergency("khan-wp-2-end", ended_at, ref="khan-wp-2", ended=True))  # a retry: marked once

    [post] = wordpress.posts(slug=alert_slug("khan-wp-2"))
    assert post["sticky"] is False and post["status"] == "publish"
    assert post["title"]["raw"] == "[Hết hiệu lực] KHẨN CẤP: Cảnh báo lũ quét"
    assert post["content"]["raw"].count(f"Hết hiệu lực</strong> lúc {ended_at:%H:%M} ngày {ended_at:%d/%m/%Y}.") == 1
    assert "Hết cảnh báo" not in post["content"]["raw"]
    assert wordpress.posts(slug=alert_slug("khan-wp-2", all_clear=True)) == []  # nothing announced
    assert receipt.remote_id == str(post["id"]) and receipt.details["ended"] is True
    assert requests.get(f"{wordpress.api}/posts", params={"sticky": "true"}, timeout=30).json() == []
    nothing = portal.deliver(emergency("khan-wp-3-end", ended_at, ref="khan-wp-3", ended=True))  # never posted
    assert nothing.details["posts"] == []


def test_an_emergency_is_published_now_and_sticky_and_its_all_clear_unsticks_and_marks_it(wordpress, portal) -> None:
    from channels.portal.wordpress import alert_slug

    issued = datetime.now(VN).replace(microsecond=0)
    receipt = portal.deliver(emergency("khan-wp-1", issued))
    portal.deliver(emergency("khan-wp-1-lap-1", issued, repeat=1))  # a repeat: the same post

    [post] = wordpress.posts(slug=alert_slug("khan-wp-1"))
    assert post["status"] == "publish" and post["sticky"] is True
    assert post["title"]["raw"] == "KHẨN CẤP: Cảnh báo lũ quét"
    assert "<p>Bà con vùng trũng sơ tán ngay lên điểm cao.</p>" in post["content"]["raw"]
    assert receipt.remote_id == str(post["id"]) and receipt.details["posts"][0]["sticky"] is True
    front = requests.get(f"{wordpress.api}/posts", params={"sticky": "true"}, timeout=30).json()
    assert [p["id"] for p in front] == [post["id"]]  # public: the front page's sticky post

    done = issued + timedelta(hours=2)
    cleared = portal.deliver(emergency("khan-wp-1-het", done, all_clear=True, text="Nước đã rút, bà con về nhà."))
    portal.deliver(emergency("khan-wp-1-het", done, all_clear=True, text="Nước đã rút, bà con về nhà."))  # a retry

    [post] = wordpress.posts(slug=alert_slug("khan-wp-1"))
    assert post["sticky"] is False and post["status"] == "publish"
    assert post["title"]["raw"] == "[Hết cảnh báo] KHẨN CẤP: Cảnh báo lũ quét"
    assert post["content"]["raw"].count("Hết cảnh báo</strong> lúc") == 1
    assert f"lúc {done:%H:%M} ngày {done:%d/%m/%Y}. Nước đã rút, bà con về nhà." in post["content"]["raw"]
    [ended] = wordpress.posts(slug=alert_slug("khan-wp-1", all_clear=True))
    assert ended["status"] == "publish" and ended["sticky"] is False
    assert ended["title"]["raw"] == "Hết cảnh báo: Cảnh báo lũ quét"
    assert cleared.remote_id == f"{post['id']},{ended['id']}"
    assert requests.get(f"{wordpress.api}/posts", params={"sticky": "true"}, timeout=30).json() == []
