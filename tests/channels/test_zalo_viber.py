"""The Zalo OA and Viber channel outlets against stand-ins: the article and the post, the token
refresh, no duplicate after a lost answer, throttling, withdrawal, and revoked credentials."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels import Article, Delivery, PermanentError, TransientError, open_channel
from channels.social.common import marker

from conftest import ROOT
from servers.social import Platform, start

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ARTICLE = Article(ref="piece-9-r2", title="Phòng chống sốt xuất huyết mùa mưa",
                  html="<p>Diệt lăng quăng, bọ gậy.</p><p>Ngủ màn kể cả ban ngày.</p>",
                  summary="Bà con chủ động diệt lăng quăng và ngủ màn.", campaign="Phòng chống dịch bệnh")


def delivery(delivery_id: str, *articles: Article) -> Delivery:
    start_at = datetime.now(VN)
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="social",
                    start_at=start_at, end_at=start_at + timedelta(hours=1), articles=articles or (ARTICLE,))


@pytest.fixture
def zalo() -> Iterator[Platform]:
    yield from start("zalo")


@pytest.fixture
def viber() -> Iterator[Platform]:
    yield from start("viber")


def oa(platform: Platform, monkeypatch, tmp_path: Path, **extra):
    monkeypatch.setenv("LOA_TEST_ZALO_SECRET", platform.app_secret)
    monkeypatch.setenv("LOA_TEST_ZALO_REFRESH", platform.refresh_token)
    return open_channel("social.zalo", {
        "type": "zalo", "app_id": platform.app_id, "secret_env": "LOA_TEST_ZALO_SECRET",
        "refresh_token_env": "LOA_TEST_ZALO_REFRESH", "token_file": str(tmp_path / "state" / "zalo.json"),
        "author": "Trung tâm VH-TT xã Tân Lập", "cover_url": "https://tanlap.gov.vn/logo.png",
        "media_url": "https://tanlap.gov.vn/media", "api_url": platform.url, "oauth_url": platform.url,
        "link_template": "https://tanlap.gov.vn/tin/{ref}", **extra})


def test_a_zalo_article_is_made_after_refreshing_the_token_and_the_new_pair_is_kept(zalo, monkeypatch,
                                                                                     tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    first_refresh = zalo.refresh_token

    receipt = channel.deliver(delivery("z-1"))

    [(article_id, article)] = zalo.posts.items()
    assert receipt.remote_id == article_id
    assert article["title"] == ARTICLE.title and article["status"] == "show"
    assert article["author"] == "Trung tâm VH-TT xã Tân Lập"
    assert article["body"][0] == {"type": "text", "content": "Diệt lăng quăng, bọ gậy.\nNgủ màn kể cả ban ngày."}
    assert "#PhòngChốngDịchBệnh" in article["body"][-1]["content"]
    kept = tmp_path / "state" / "zalo.json"
    assert json.loads(kept.read_text())["refresh_token"] == zalo.refresh_token != first_refresh
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert ("POST", "/v4/oa/access_token") in zalo.requests


def test_an_expired_zalo_token_is_refreshed_again_from_the_kept_pair(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    channel.deliver(delivery("z-2"))
    zalo.expired = True  # 25 hours later

    later = Article(ref="p-2", title="Lịch tiêm phòng dại cho chó mèo", html="<p>Tại nhà văn hoá thôn.</p>",
                    summary="Tiêm phòng dại miễn phí.", campaign="")
    channel.deliver(delivery("z-3", later))

    assert len(zalo.posts) == 2
    assert sum(1 for r in zalo.requests if r == ("POST", "/v4/oa/access_token")) == 2


def test_the_piece_image_is_the_zalo_cover_and_a_body_image(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    with_image = Article(ref="p-img", title="Ảnh ra quân diệt lăng quăng", html="<p>Thôn 3 ra quân.</p>",
                         summary="Thôn 3 ra quân.", campaign="", image_path=tmp_path / "ra-quan.jpg")

    channel.deliver(delivery("z-4", with_image))

    [article] = zalo.posts.values()
    assert article["cover"]["photo_url"] == "https://tanlap.gov.vn/media/ra-quan.jpg"
    assert {"type": "image", "url": "https://tanlap.gov.vn/media/ra-quan.jpg"} in article["body"]


def test_a_zalo_retry_after_a_timeout_that_reached_zalo_makes_no_duplicate(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path, read_timeout_s=0.5)
    channel.deliver(delivery("z-warm", Article(ref="p-0", title="Tin cũ", html="<p>x</p>", summary="x", campaign="")))
    zalo.hang_s = 1.5

    with pytest.raises(TransientError, match="timed out"):
        channel.deliver(delivery("z-5"))
    time.sleep(1.2)
    receipt = channel.deliver(delivery("z-5"))

    assert [a["title"] for a in zalo.posts.values()].count(ARTICLE.title) == 1
    assert receipt.details["posts"][0]["found"] is True


def test_zalo_rate_limit_is_transient(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    zalo.faults.append((429, {"Retry-After": "60"}, {"error": -32, "message": "exceed limit"}))

    with pytest.raises(TransientError) as caught:
        channel.deliver(delivery("z-6"))
    assert caught.value.retry_after == 60


def test_zalo_withdrawal_removes_the_article(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    channel.deliver(delivery("z-7"))

    receipt = channel.withdraw(delivery("z-7"))

    assert len(receipt.details["removed"]) == 1 and not zalo.posts
    assert channel.withdraw(delivery("z-7")).details["removed"] == []  # a retry: nothing left, no error


def test_another_piece_with_the_same_title_is_posted_not_taken_for_an_earlier_attempt(zalo, monkeypatch,
                                                                                     tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    first = channel.deliver(delivery("z-10"))
    same_title = Article(ref="piece-31-r1", title=ARTICLE.title, html="<p>Xã phun thuốc diệt muỗi thứ Bảy.</p>",
                         summary="Lịch phun thuốc diệt muỗi.", campaign="Phòng chống dịch bệnh")

    second = channel.deliver(delivery("z-11", same_title))

    assert second.remote_id != first.remote_id and len(zalo.posts) == 2
    assert not second.details["posts"][0]["found"]
    assert marker("z-11", same_title.ref) in zalo.posts[second.remote_id]["body"][-1]["content"]
    again = channel.deliver(delivery("z-11", same_title))  # a retry of the second finds the second
    assert again.remote_id == second.remote_id and again.details["posts"][0]["found"] and len(zalo.posts) == 2


def newer_articles(channel, count: int) -> None:
    for n in range(count):
        channel.deliver(delivery(f"z-later-{n}", Article(ref=f"piece-{100 + n}-r1", title=f"Tin số {n}",
                                                        html=f"<p>Tin {n}.</p>", summary=f"Tin {n}.")))


def test_a_withdrawal_after_more_than_ten_newer_articles_removes_the_right_one(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    twin = Article(ref="piece-31-r1", title=ARTICLE.title, html="<p>Khác.</p>", summary="Khác.")
    kept = channel.deliver(delivery("z-12", twin)).remote_id  # same title, another piece: must stay
    posted = channel.deliver(delivery("z-13")).remote_id
    newer_articles(channel, 12)

    # by the id the push recorded (Delivery.published, filled from its receipt by the outbox)
    receipt = channel.withdraw(replace(delivery("z-13"), published=((ARTICLE.ref, posted),)))

    assert receipt.details["removed"] == [{"id": posted, "ref": ARTICLE.ref}]
    assert posted not in zalo.posts and kept in zalo.posts and len(zalo.posts) == 13
    again = channel.withdraw(replace(delivery("z-13"), published=((ARTICLE.ref, posted),)))  # a retry: no error
    assert again.details["removed"] == [] and again.details["gone_already"][0]["id"] == posted


def test_a_withdrawal_with_no_recorded_id_finds_its_marker_past_the_first_page(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    posted = channel.deliver(delivery("z-14")).remote_id
    kept = channel.deliver(delivery("z-15", replace(ARTICLE, ref="piece-32-r1"))).remote_id
    newer_articles(channel, 11)

    receipt = channel.withdraw(delivery("z-14"))  # its push's outcome was never recorded

    assert receipt.details["removed"] == [{"id": posted, "ref": ARTICLE.ref}]
    assert posted not in zalo.posts and kept in zalo.posts


PUSHER = """
import json, sys, time
from datetime import datetime, timedelta, timezone
from channels import Article, Delivery, open_channel
options, ref, start = json.loads(sys.argv[1]), sys.argv[2], float(sys.argv[3])
channel = open_channel("social.zalo", options)
while time.time() < start:
    time.sleep(0.001)
at = datetime.now(timezone.utc)
article = Article(ref=ref, title="Tin " + ref, html="<p>Tin.</p>", summary="Tin.")
receipt = channel.deliver(Delivery(id="d-" + ref, station_code="99001", station_name="Xã Tân Lập", outlet="social",
                                   start_at=at, end_at=at + timedelta(hours=1), articles=(article,)))
print(receipt.remote_id)
"""


def test_two_processes_refreshing_together_spend_the_refresh_token_once(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)  # sets the secret and first refresh token in the environment
    zalo.refresh_delay_s = 1.0  # the first refresh is still answering when the second process wants one
    options = json.dumps({**channel.options.model_dump(mode="json")})
    start_at = time.time() + 4
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pushers = [subprocess.Popen([sys.executable, "-c", PUSHER, options, f"piece-{n}-r1", str(start_at)], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (1, 2)]
    results = [pusher.communicate(timeout=60) for pusher in pushers]

    assert [pusher.returncode for pusher in pushers] == [0, 0], [err[-800:] for _, err in results]
    assert sorted(out.strip() for out, _ in results) == sorted(zalo.posts)  # both articles made, once each
    assert zalo.requests.count(("POST", "/v4/oa/access_token")) == 1  # one refresh, the other used its pair
    kept = json.loads((tmp_path / "state" / "zalo.json").read_text())
    assert kept == {"access_token": zalo.token, "refresh_token": zalo.refresh_token}


def test_a_refused_refresh_uses_the_pair_another_process_stored_meanwhile(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    channel.deliver(delivery("z-20"))
    zalo.expired = True
    spent = json.loads((tmp_path / "state" / "zalo.json").read_text())["refresh_token"]
    other = oa(zalo, monkeypatch, tmp_path)  # another process (an older loa, without the lock) refreshes...
    real_refresh = type(other)._refresh_now

    def refresh_then_lose_the_race(self, refresh_token: str) -> None:
        real_refresh(self, refresh_token)  # ...with the same token, just before this one: Zalo spent it
        real_refresh(self, spent)

    monkeypatch.setattr(type(other), "_refresh_now", refresh_then_lose_the_race)

    receipt = other.deliver(delivery("z-21", replace(ARTICLE, ref="piece-40-r1", title="Tin khác")))

    assert receipt.remote_id in zalo.posts  # not dead-lettered as "authorise the OA again"
    assert zalo.requests.count(("POST", "/v4/oa/access_token")) == 3


def test_a_revoked_zalo_refresh_token_is_permanent_and_says_what_to_do(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)
    zalo.refresh_token = "revoked-by-the-oa-admin"

    with pytest.raises(PermanentError, match=r"refresh token is revoked.*authorise the Official Account again"):
        channel.deliver(delivery("z-8"))
    assert not zalo.posts


def channel_of(platform: Platform, monkeypatch, **extra):
    monkeypatch.setenv("LOA_TEST_VIBER_TOKEN", platform.token)
    return open_channel("social.viber", {"type": "viber", "token_env": "LOA_TEST_VIBER_TOKEN", "admin_id": "adm==",
                                         "sender_name": "Xã Tân Lập", "api_url": platform.url,
                                         "media_url": "https://tanlap.gov.vn/media", **extra})


def test_a_viber_text_post_carries_the_short_form_and_marker(viber, monkeypatch) -> None:
    receipt = channel_of(viber, monkeypatch).deliver(delivery("v-1"))

    [(token, post)] = viber.posts.items()
    assert receipt.remote_id == token
    assert post["type"] == "text" and post["from"] == "adm==" and post["sender"] == {"name": "Xã Tân Lập"}
    assert post["text"].startswith(ARTICLE.title) and post["text"].endswith(marker("v-1", ARTICLE.ref))


def test_a_viber_picture_keeps_its_caption_within_768(viber, monkeypatch, tmp_path) -> None:
    long = Article(ref="p-pic", title="Ra quân", html="", summary="Làm sạch môi trường. " * 100, campaign="",
                   image_path=tmp_path / "a.jpg")

    channel_of(viber, monkeypatch).deliver(delivery("v-2", long))

    [post] = viber.posts.values()
    assert post["type"] == "picture" and post["media"] == "https://tanlap.gov.vn/media/a.jpg"
    assert len(post["text"]) <= 768


def test_viber_too_many_requests_is_transient(viber, monkeypatch) -> None:
    viber.faults.append((200, {}, {"status": 12, "status_message": "Too many requests"}))

    with pytest.raises(TransientError, match="Too many requests"):
        channel_of(viber, monkeypatch).deliver(delivery("v-3"))


def test_a_revoked_viber_token_is_permanent_and_withdrawal_is_refused_with_the_reason(viber, monkeypatch) -> None:
    channel = channel_of(viber, monkeypatch)
    viber.token = "a-new-token"

    with pytest.raises(PermanentError, match="invalid or revoked"):
        channel.deliver(delivery("v-4"))
    with pytest.raises(PermanentError, match=r"cannot delete.*admin must delete them in the Viber app.*\[loa:"):
        channel.withdraw(delivery("v-4"))


def emergency(delivery_id: str, *, all_clear: bool = False, repeat: int = 0) -> Delivery:
    from channels import Alert

    issued = datetime.now(VN)
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="social",
                    start_at=issued, end_at=issued + timedelta(hours=6), level="emergency",
                    alert=Alert(ref="khan-zv", title="Cảnh báo cháy rừng", text="Cháy rừng ở thôn 3.",
                                issued_at=issued, all_clear=all_clear, repeat=repeat))


def test_an_emergency_is_one_zalo_article_however_often_it_repeats(zalo, monkeypatch, tmp_path) -> None:
    channel = oa(zalo, monkeypatch, tmp_path)

    first = channel.deliver(emergency("khan-1"))
    again = channel.deliver(emergency("khan-1-lap-1", repeat=1))
    channel.deliver(emergency("khan-1-het", all_clear=True))

    assert zalo.creates() == 2
    assert again.remote_id == first.remote_id and again.details["posts"][0]["found"] is True
    assert sorted(p["title"] for p in zalo.posts.values()) == ["Hết cảnh báo: Cảnh báo cháy rừng",
                                                              "KHẨN CẤP: Cảnh báo cháy rừng"]


def test_viber_posts_an_emergency_and_its_all_clear_but_not_its_repeats(viber, monkeypatch) -> None:
    channel = channel_of(viber, monkeypatch)

    channel.deliver(emergency("khan-1"))
    skipped = channel.deliver(emergency("khan-1-lap-1", repeat=1))
    channel.deliver(emergency("khan-1-het", all_clear=True))

    assert viber.creates() == 2
    assert skipped.details["posted"] is False and skipped.delivery_id == "khan-1-lap-1"
    texts = sorted(p["text"] for p in viber.posts.values())
    assert texts[0].startswith("Hết cảnh báo: Cảnh báo cháy rừng") and texts[1].startswith("KHẨN CẤP: Cảnh báo")
