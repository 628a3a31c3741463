"""The board edge's kiosk page shows a slide image only when its seal is loa's and the cached file still hashes to it,
and shows the newest emergency in force (not a cleared one) as the banner."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from PIL import Image

from loa.edge import protocol
from loa.edge.board import write_board
from loa.edge.cache import Cache

KEY = "k" * 32
NOW = datetime.fromisoformat("2026-11-23T06:00:00+07:00")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(out, "PNG")
    return out.getvalue()


def _schedule(cache: Cache, sha: str, emergencies: list) -> None:
    item = {"item": "r1-1", "title": "Ngày hội", "sha256": sha, "duration_s": 0.0,
            "seal": protocol.item_seal(KEY, "d1", "r1-1", sha)}
    slide = {"ref": "r1-1", "title": "Ngày hội", "campaign": "", "text": "Mời bà con đến dự ngày hội đọc sách.",
             "seconds": 15, "image_sha256": sha, "valid_until": None}
    cache.keep_schedule({"rotations": [{"delivery_id": "d1", "start_at": "2026-11-23T00:00:00+07:00",
                                        "end_at": "2026-11-24T00:00:00+07:00", "slides": [slide], "items": [item]}],
                         "emergencies": emergencies})


def test_the_page_embeds_a_verified_image_and_drops_an_altered_one(tmp_path):
    cache = Cache(tmp_path, KEY)
    data = _png()
    sha = hashlib.sha256(data).hexdigest()
    cache.store(sha, data)
    _schedule(cache, sha, [])
    page = write_board(cache, "Xã Tân Lập", [], NOW).read_text(encoding="utf-8")
    assert "Mời bà con đến dự ngày hội đọc sách." in page and 'src="data:image/png;base64,' in page

    cache.path(sha).write_bytes(data[:-1] + b"\x00")  # one byte changed on the device's disk
    page = write_board(cache, "Xã Tân Lập", [], NOW).read_text(encoding="utf-8")
    assert "Mời bà con đến dự ngày hội đọc sách." in page and "data:image" not in page


def test_the_banner_shows_the_emergency_in_force_and_not_a_cleared_one(tmp_path):
    cache = Cache(tmp_path, KEY)
    _schedule(cache, "0" * 64, [])
    on = {"title": "Lũ quét", "text": "Bà con tránh xa suối.", "starts_at": "2026-11-23T05:59:00+07:00",
          "until": None, "cleared": False}
    page = write_board(cache, "Xã Tân Lập", [on], NOW).read_text(encoding="utf-8")
    assert 'role="alert">' in page and "Bà con tránh xa suối." in page
    page = write_board(cache, "Xã Tân Lập", [{**on, "cleared": True}], NOW).read_text(encoding="utf-8")
    assert 'role="alert" hidden' in page and "Bà con tránh xa suối." not in page
