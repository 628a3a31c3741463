"""Loading feeds: the provincial portal's RSS as drafts (twice adds nothing), and every bad feed refused
with its reason while nothing stored changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_support import Answer, FeedServer, make_accounts, rss, running_server, snapshot, user
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import InputError
from content.ingest.config import IngestSettings
from content.ingest.feeds import plain_text
from content.ingest.polling import ingest_feed
from content.models import AuditEvent, FeedState, Piece, PieceState
from content.pieces import PieceContent, add_piece

PORTAL = Path(__file__).resolve().parents[2] / "data" / "portal-feed.xml"
FAST = IngestSettings(connect_timeout_s=1, read_timeout_s=0.5, total_timeout_s=0.8, private_hosts=("127.0.0.1",))


@pytest.fixture
def desk(services):
    make_accounts(services)
    with unit_of_work(services.sessions) as session:  # something already stored, which must never change
        add_piece(session, PieceContent(title="Lịch tiêm chủng", body="Trạm y tế xã tiêm chủng sáng thứ Bảy."),
                  author=user(session), now=services.now())
    return services


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with running_server() as running:
        yield running


def load(services, source: str, settings: IngestSettings = FAST, **kwargs):
    with unit_of_work(services.sessions) as session:
        return ingest_feed(session, source, settings, author=user(session), now=services.now(), **kwargs)


def test_the_portal_feed_becomes_drafts_and_a_second_import_adds_nothing(desk):
    first = load(desk, str(PORTAL))
    assert [title for _, title, _ in first.added] == [
        "Hội nghị triển khai Kế hoạch chuyển đổi số năm 2027",
        "Tuyên truyền phòng, chống dịch bệnh mùa đông xuân",
        "Ngày hội Đại đoàn kết toàn dân tộc ở các khu dân cư",
    ]
    before = snapshot(desk)
    second = load(desk, str(PORTAL))
    assert second.added == []
    assert [reason for _, reason in second.skipped] == [
        f"already loaded as piece {piece_id} (same guid)" for piece_id, _, _ in first.added]
    after = snapshot(desk)
    assert after[:2] == before[:2]
    with unit_of_work(desk.sessions) as session:
        pieces = {p.id: p for p in session.scalars(select(Piece))}
        first_piece = pieces[first.added[0][0]]
        assert first_piece.state == PieceState.DRAFT
        assert first_piece.source_ref == ("guid:hagiang-tin-1205 https://hagiang.gov.vn.example/tin-tuc-su-kien/"
                                          "hoi-nghi-trien-khai-ke-hoach-chuyen-doi-so-nam-2027-1205.html")
        assert first_piece.current_revision.body == (
            "Sáng 22/11, UBND tỉnh tổ chức Hội nghị triển khai Kế hoạch số 231/KH-UBND về chuyển đổi số năm 2027.\n"
            "Các xã, thị trấn rà soát hạ tầng truyền thanh cơ sở, hoàn thành trước ngày 31/12/2026.")
        scripted = pieces[first.added[1][0]].current_revision.body
        assert scripted == ("Sở Y tế khuyến cáo người dân giữ ấm, rửa tay thường xuyên & tiêm vắc-xin đầy đủ.\n"
                            "Trạm y tế xã trực 24/24 giờ.")
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions.count("ingest.feed") == 2 and actions.count("piece.create") == 4


def test_scripts_styles_and_event_handlers_in_html_never_reach_the_text():
    html = ('<p onclick="alert(1)">Mời <b>bà con</b> dự họp</p><script>alert("x")</script>'
            '<style>p{color:red}</style><iframe src="https://quangcao.example/"></iframe><p>tại nhà văn hóa.</p>'
            '<img src=x onerror="alert(2)">')
    assert plain_text(html) == "Mời bà con dự họp\ntại nhà văn hóa."


def test_an_item_identical_to_a_stored_piece_is_skipped_by_its_content_hash(desk, server):
    server.answers["/rss"] = Answer(rss(("Lịch tiêm chủng", "<p>Trạm y tế xã tiêm chủng sáng thứ Bảy.</p>"),
                                        ("Họp dân", "<p>Họp dân tối thứ Sáu.</p>")))
    result = load(desk, server.url("/rss"))
    assert [t for _, t, _ in result.added] == ["Họp dân"]
    assert result.skipped == [("Lịch tiêm chủng", "identical to piece 1")]


def test_a_poll_sends_the_etag_back_and_a_304_adds_nothing(desk, server):
    def respond(headers):
        if headers.get("if-none-match") == '"v1"':
            return Answer(status=304, headers={"ETag": '"v1"'})
        return Answer(rss(("Họp dân", "Họp dân tối thứ Sáu.")), headers={
            "ETag": '"v1"', "Last-Modified": "Mon, 23 Nov 2026 01:00:00 GMT"})

    server.answers["/rss"] = Answer(respond=respond)
    assert len(load(desk, server.url("/rss"), conditional=True).added) == 1
    before = snapshot(desk)
    again = load(desk, server.url("/rss"), conditional=True)
    assert again.added == [] and again.notes == ["not modified since the last poll"]
    assert server.requests[-1][1]["if-none-match"] == '"v1"'
    assert server.requests[-1][1]["if-modified-since"] == "Mon, 23 Nov 2026 01:00:00 GMT"
    assert snapshot(desk)[:2] == before[:2]
    with unit_of_work(desk.sessions) as session:
        state = session.scalar(select(FeedState))
        assert (state.etag, state.last_result) == ('"v1"', "not modified")


BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + b"".join(b' <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                   for i in range(1, 10))
        + b']>\n<rss version="2.0"><channel><title>&lol9;</title></channel></rss>')

REFUSALS = {
    "malformed": (Answer(b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>X\xc3\xa3'
                         b'</title>\n<item><title>Tin</title></channel></rss>'),
                  "the feed is not well-formed XML (line 3, column 26: mismatched tag)"),
    "bomb": (Answer(BOMB), "the feed declares XML entities (<!ENTITY>); refused, as that is how XML bombs such "
                           "as 'billion laughs' work"),
    "html": (Answer(b"<!DOCTYPE html><html><head><title>Trang ch\xe1\xbb\xa7</title></head><body>Xin ch\xc3\xa0o"
                    b"</body></html>", headers={"Content-Type": "text/html"}),
             "this is not an RSS or Atom feed (it looks like an HTML page)"),
    "json": (Answer(b'{"items": []}'), "this is not an RSS or Atom feed (it is not XML)"),
    "huge": (Answer(b"<rss>" + b" " * (6 * 1024 * 1024)), "the feed is 6.0 MB; at most 5 MB ([ingest] max_feed_mb)"),
    "huge-unannounced": (Answer(b"<rss>" + b" " * (6 * 1024 * 1024), length=False),
                         "the feed is larger than 5 MB ([ingest] max_feed_mb); refused"),
    "slow": (Answer(rss(("Tin", "Tin")), delay_s=1.5), "the server did not answer within 0.5 s"),
    "trickling": (Answer(rss(("Tin", "x" * 3000)), trickle_s=0.05), "the feed took longer than 0.8 s to arrive; "
                                                                     "refused"),
    "missing": (Answer(b"gone", status=404), "the server answered 404 Not Found"),
    "redirect-loop": (Answer(status=302, headers={"Location": "/redirect-loop"}), "more than 3 redirects"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_feed_is_refused_with_its_reason_and_nothing_changes(desk, server, case):
    answer, message = REFUSALS[case]
    server.answers[f"/{case}"] = answer
    before = snapshot(desk)
    with pytest.raises(InputError) as refused:
        load(desk, server.url(f"/{case}"))
    assert str(refused.value) == f"{server.url(f'/{case}')}: {message}"
    assert snapshot(desk) == before


def test_only_http_and_allowed_hosts_are_fetched(desk, server):
    before = snapshot(desk)
    with pytest.raises(InputError, match="only http and https addresses can be fetched, not file"):
        load(desk, "file:///etc/passwd")
    server.answers["/away"] = Answer(status=301, headers={"Location": "ftp://xa.example/feed"})
    with pytest.raises(InputError, match=r"^ftp://xa\.example/feed: only http and https"):
        load(desk, server.url("/away"))
    strict = IngestSettings(allowed_hosts=("hagiang.gov.vn",))
    with pytest.raises(InputError, match=r"host 127\.0\.0\.1 is not in \[ingest\] allowed_hosts \(hagiang\.gov\.vn\)"):
        load(desk, server.url("/rss"), strict)
    assert snapshot(desk) == before


def test_a_huge_feed_file_on_disk_is_refused_before_reading(desk, tmp_path):
    big = tmp_path / "big.xml"
    big.write_bytes(b"<rss>" + b" " * (6 * 1024 * 1024))
    with pytest.raises(InputError, match=r"big\.xml: the feed is 6\.0 MB; at most 5 MB"):
        load(desk, str(big), IngestSettings())


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.1.1", "169.254.169.254", "[::1]",
                                     "[::ffff:127.0.0.1]", "100.64.0.1", "0.0.0.0"])
def test_loopback_private_and_link_local_addresses_are_refused_unless_listed(desk, server, address):
    before = snapshot(desk)
    settings = IngestSettings(connect_timeout_s=1, read_timeout_s=0.5, total_timeout_s=0.8)
    with pytest.raises(InputError, match=r"a loopback, private or link-local address; feeds are fetched from public "
                                         r"addresses only unless \[ingest\] private_hosts lists it$"):
        load(desk, f"http://{address}:{server.httpd.server_address[1]}/rss", settings)
    assert server.requests == [] and snapshot(desk) == before


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.2:9/",
                                    "http://10.0.0.1/admin"])
def test_a_redirect_to_a_private_address_is_refused_at_that_hop(desk, server, target):
    """The first hop is on the listed address (127.0.0.1); where it sends loa to is checked again."""
    server.answers["/away"] = Answer(status=302, headers={"Location": target})
    with pytest.raises(InputError, match=r"a loopback, private or link-local address") as refused:
        load(desk, server.url("/away"))
    assert str(refused.value).startswith(f"{target}: ")
    assert [path for path, _ in server.requests] == ["/away"]


def test_a_name_that_resolves_to_loopback_only_when_connecting_is_refused_before_sending(desk, server, monkeypatch):
    """DNS rebinding: the check before the request saw a public address, the connection reaches loopback."""
    import content.ingest.fetch

    monkeypatch.setattr(content.ingest.fetch, "check_addresses", lambda url, settings: None)
    settings = IngestSettings(connect_timeout_s=1, read_timeout_s=0.5, total_timeout_s=0.8)
    with pytest.raises(InputError, match=r"127\.0\.0\.1 is at 127\.0\.0\.1, a loopback, private or link-local"):
        load(desk, server.url("/rss"), settings)
    assert server.requests == []


def test_a_listed_private_network_may_be_fetched_from(desk, server):
    server.answers["/rss"] = Answer(rss(("Họp dân", "<p>Tối thứ Sáu họp dân.</p>")))
    settings = IngestSettings(private_hosts=("127.0.0.0/8",))
    assert len(load(desk, server.url("/rss"), settings).added) == 1
