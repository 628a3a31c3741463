"""The schedule is sent gzipped to clients that accept it (the centres' links are slow), plain to the others."""

from __future__ import annotations

import pytest

from loa.web.encoded import accepts_gzip


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip, deflate", True), ("br;q=1.0, GZIP;q=0.5", True), ("*", True), ("gzip;q=0", False),
    ("identity", False), ("", False), ("deflate, br", False), ("gzip;q=nonsense", False),
])
def test_accepts_gzip_reads_the_header_and_its_quality(header, expected):
    assert accepts_gzip(header) is expected


def test_the_schedule_is_the_same_json_gzipped_or_plain_and_smaller_gzipped(web):
    api, lan = web.client(), web.token("lan")
    hung = web.token("hung")
    piece = api.post("/api/pieces", headers=lan, json={
        "title": "Lịch tiêm chủng tháng 12", "body": "Bà con đưa trẻ đến trạm y tế xã sáng thứ Bảy.",
        "campaign": "guong-dien-hinh", "channels": ["loudspeaker"]}).json()
    api.post(f"/api/pieces/{piece['id']}/submit", headers=lan)
    api.post(f"/api/review/{piece['id']}/approve", headers=hung,
             json={"note": "được", "revision_id": piece["revision_id"], "sha256": piece["sha256"]})
    assert api.post("/api/plan", headers=hung, json={"days": 2}).status_code == 200
    gzipped = api.get("/api/schedule?days=2", headers={**lan, "Accept-Encoding": "gzip"})
    plain = api.get("/api/schedule?days=2", headers={**lan, "Accept-Encoding": "identity"})
    assert gzipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert gzipped.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"
    assert gzipped.json() == plain.json() and len(plain.json()) > 0
    assert int(gzipped.headers["content-length"]) * 3 < int(plain.headers["content-length"])
