"""The Facebook Page outlet against a Graph API stand-in: scheduled at the slot, photos, no duplicate
after a lost answer, throttling honoured, withdrawal, a revoked token."""

from __future__ import annotations

import struct
import time
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels import Article, Delivery, PermanentError, TransientError, open_channel
from channels.portal.feed_all import ALL, item_guid
from channels.social.common import marker
from channels.social.facebook import FacebookPage

from servers.social import Platform, start

VN = ZoneInfo("Asia/Ho_Chi_Minh")
TOKEN_ENV = "LOA_TEST_FB_TOKEN"

ARTICLE = Article(ref="piece-7-r1", title="Tiêm chủng mở rộng cho trẻ dưới 5 tuổi",
                  html="<p>Trạm y tế xã tiêm chủng sáng thứ Bảy.</p>",
                  summary="Trạm y tế xã tổ chức tiêm chủng mở rộng vào sáng thứ Bảy, 8 giờ.",
                  campaign="Tiêm chủng mở rộng")


def delivery(delivery_id: str, start_at: datetime, *articles: Article) -> Delivery:
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="social",
                    start_at=start_at, end_at=start_at + timedelta(hours=1), articles=articles or (ARTICLE,))


def page(platform, monkeypatch, **extra) -> FacebookPage:
    monkeypatch.setenv(TOKEN_ENV, platform.token)
    return open_channel("social.facebook", {"type": "facebook", "page_id": "page-1", "token_env": TOKEN_ENV,
                                            "graph_url": platform.url,
                                            "link_template": "https://tanlap.gov.vn/tin/{ref}", **extra})


@pytest.fixture
def facebook() -> Iterator[Platform]:
    yield from start("facebook")


@pytest.fixture
def fb(facebook, monkeypatch) -> Iterator[FacebookPage]:
    channel = page(facebook, monkeypatch)
    yield channel
    channel.close()


def test_a_post_is_scheduled_for_the_slot_time_with_title_lead_link_and_hashtags(facebook, fb) -> None:
    slot = datetime.fromtimestamp(int(time.time()) + 3 * 3600, VN)

    receipt = fb.deliver(delivery("d-1", slot))

    [(post_id, post)] = facebook.posts.items()
    assert receipt.remote_id == post_id
    assert post["scheduled"] and post["at"] == int(slot.timestamp())
    assert post["link"] == "https://tanlap.gov.vn/tin/piece-7-r1"
    lines = post["message"].split("\n\n")
    assert lines[0] == ARTICLE.title
    assert lines[1] == ARTICLE.summary
    assert "#TiêmChủngMởRộng" in post["message"]
    assert post["message"].endswith(marker("d-1", ARTICLE.ref))


def test_a_slot_closer_than_ten_minutes_is_published_at_once(facebook, fb) -> None:
    fb.deliver(delivery("d-2", datetime.now(VN) + timedelta(minutes=2)))

    [post] = facebook.posts.values()
    assert not post["scheduled"]


def test_a_long_lead_is_cut_to_the_configured_length_in_nfc(facebook, monkeypatch) -> None:
    title = "Thông báo về lịch cắt điện"
    long = Article(ref="p-long", title="Lịch cắt điện", html="", campaign="",
                   summary=("Điện lực huyện thông báo lịch cắt điện để bảo dưỡng lưới điện. " * 40))
    nfd = Article(ref="p-nfd", title=unicodedata.normalize("NFD", title), html="", summary="", campaign="")
    channel = page(facebook, monkeypatch, message_chars=300)

    channel.deliver(delivery("d-3", datetime.now(VN), long, nfd))

    messages = [p["message"] for p in facebook.posts.values()]
    assert all(len(m) <= 300 for m in messages)
    assert messages[0].split("\n\n")[1].endswith("…")
    assert messages[1].startswith(title) and unicodedata.is_normalized("NFC", messages[1])


def _png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00" + b"\x10\x80\x30"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def test_a_piece_with_an_image_becomes_a_photo_post(facebook, fb, tmp_path) -> None:
    image = _png(tmp_path / "tiem-chung.png")
    with_image = Article(ref="p-img", title="Ảnh tiêm chủng", html="", summary="Bà con đưa trẻ đi tiêm.",
                         campaign="Tiêm chủng mở rộng", image_path=image)

    receipt = fb.deliver(delivery("d-4", datetime.now(VN) + timedelta(hours=1), with_image))

    [post] = facebook.posts.values()
    assert post["photo"] == image.read_bytes()
    assert post["scheduled"]
    assert ("POST", "/page-1/photos") in facebook.requests
    assert receipt.remote_id in facebook.posts


def test_a_retry_after_a_timeout_that_reached_facebook_makes_no_duplicate(facebook, monkeypatch) -> None:
    channel = page(facebook, monkeypatch, read_timeout_s=0.5)
    facebook.hang_s = 1.5  # the post is made, the answer comes too late

    with pytest.raises(TransientError, match="timed out"):
        channel.deliver(delivery("d-5", datetime.now(VN) + timedelta(hours=2)))
    time.sleep(1.2)
    receipt = channel.deliver(delivery("d-5", datetime.now(VN) + timedelta(hours=2)))

    assert len(facebook.posts) == 1 and facebook.creates() == 1
    assert receipt.details["posts"][0]["found"] is True
    assert receipt.remote_id in facebook.posts


def test_too_many_requests_is_transient_with_the_wait_facebook_asked_for(facebook, fb) -> None:
    facebook.faults.append((429, {"Retry-After": "120"}, {"error": {"message": "slow down", "code": 4}}))

    with pytest.raises(TransientError) as caught:
        fb.deliver(delivery("d-6", datetime.now(VN)))

    assert caught.value.retry_after == 120
    assert not facebook.posts


def test_a_page_throttled_in_the_body_is_transient(facebook, fb) -> None:
    facebook.faults.append((400, {}, {"error": {"message": "(#32) Page request limit reached", "code": 32}}))

    with pytest.raises(TransientError, match="limit reached") as caught:
        fb.deliver(delivery("d-7", datetime.now(VN)))
    assert caught.value.retry_after and caught.value.retry_after > 0


def test_withdrawal_deletes_the_post(facebook, fb) -> None:
    fb.deliver(delivery("d-8", datetime.now(VN) + timedelta(hours=1)))
    assert len(facebook.posts) == 1

    receipt = fb.withdraw(delivery("d-8", datetime.now(VN) + timedelta(hours=1)))

    [gone] = receipt.details["deleted"]
    assert not facebook.posts and receipt.remote_id == gone["id"]
    assert ("DELETE", f"/{gone['id']}") in facebook.requests
    again = fb.withdraw(delivery("d-8", datetime.now(VN) + timedelta(hours=1)))  # a retry: nothing left, no error
    assert again.details["deleted"] == []


def test_a_withdrawal_deletes_the_recorded_post_however_many_came_after_it(facebook, fb) -> None:
    at = datetime.now(VN) + timedelta(minutes=5)  # published at once
    posted = fb.deliver(delivery("d-20", at)).remote_id
    for n in range(101):  # more than the newest 100 a marker search reads
        fb.deliver(delivery(f"d-later-{n}", at, Article(ref=f"piece-{200 + n}-r1", title=f"Tin {n}", html="",
                                                        summary=f"Tin số {n}.")))

    receipt = fb.withdraw(replace(delivery("d-20", at), published=((ARTICLE.ref, posted),)))

    assert receipt.details["deleted"] == [{"id": posted, "ref": ARTICLE.ref}] and posted not in facebook.posts
    assert len(facebook.posts) == 101
    assert not any(method == "GET" for method, _ in facebook.requests[-2:])  # deleted by id, no search
    again = fb.withdraw(replace(delivery("d-20", at), published=((ARTICLE.ref, posted),)))
    assert again.details["deleted"] == []  # a retry: Facebook has no such post any more, no error


def test_the_link_leads_to_loas_article_page_and_is_left_out_when_the_piece_goes_to_no_portal(facebook,
                                                                                              monkeypatch) -> None:
    channel = page(facebook, monkeypatch, link_template="http://loa.local:8080/articles/{guid}")
    at = datetime.now(VN) + timedelta(hours=1)

    linked = channel.deliver(delivery("d-30", at)).remote_id
    unlinked = channel.deliver(delivery("d-31", at, replace(ARTICLE, ref="piece-8-r1", portal=False))).remote_id

    guid = item_guid(ALL, ARTICLE.ref)  # the page loa's feed portal serves the piece at
    assert facebook.posts[linked]["link"] == f"http://loa.local:8080/articles/{guid}"
    assert guid in facebook.posts[linked]["message"]
    assert facebook.posts[unlinked]["link"] is None and "http" not in facebook.posts[unlinked]["message"]
    for bad in ("loa.local/articles/{guid}", "https://xa.gov.vn/tin/{id}"):
        with pytest.raises(ValueError, match="link_template"):
            page(facebook, monkeypatch, link_template=bad)


def test_a_revoked_token_is_permanent_and_says_what_to_do(facebook, monkeypatch) -> None:
    channel = page(facebook, monkeypatch)
    facebook.token = "a-new-token-the-page-made"  # the old one was revoked

    with pytest.raises(PermanentError, match=r"expired or revoked.*token_env"):
        channel.deliver(delivery("d-9", datetime.now(VN)))
    assert not facebook.posts


def test_a_slot_beyond_thirty_days_is_refused_clearly(facebook, fb) -> None:
    with pytest.raises(PermanentError, match="at most 30 days"):
        fb.deliver(delivery("d-10", datetime.now(VN) + timedelta(days=40)))


def emergency(delivery_id: str, start_at: datetime, *, all_clear: bool = False, repeat: int = 0) -> Delivery:
    from channels import Alert

    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="social",
                    start_at=start_at, end_at=start_at + timedelta(hours=6), level="emergency",
                    alert=Alert(ref="khan-fb", title="Cảnh báo lũ quét", text="Lũ quét trên suối, sơ tán ngay.",
                                issued_at=start_at, all_clear=all_clear, repeat=repeat))


def test_an_emergency_is_posted_at_once_once_and_its_all_clear_too(facebook, fb) -> None:
    # pushed with a moment ahead (a clock ahead of Facebook's): an emergency is still never scheduled
    issued = datetime.now(VN) + timedelta(hours=1)

    first = fb.deliver(emergency("khan-1", issued))
    again = fb.deliver(emergency("khan-1-lap-1", issued, repeat=1))  # a repeat finds the post by its marker
    ended = fb.deliver(emergency("khan-1-het", issued, all_clear=True))

    assert facebook.creates() == 2
    warning, cleared = sorted(facebook.posts.values(), key=lambda p: p["message"])[::-1]
    assert not warning["scheduled"] and not cleared["scheduled"]
    assert warning["message"].startswith("KHẨN CẤP: Cảnh báo lũ quét\n\nLũ quét trên suối, sơ tán ngay.")
    assert cleared["message"].startswith("Hết cảnh báo: Cảnh báo lũ quét")
    assert first.delivery_id == "khan-1" and again.remote_id == first.remote_id
    assert again.details["posts"][0]["found"] is True
    assert ended.remote_id != first.remote_id
