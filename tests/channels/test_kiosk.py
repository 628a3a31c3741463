"""The kiosk board adapter keeps a board document from which the right rotation shows at the right time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from channels import Delivery, PermanentError, Slide
from channels.board.kiosk import KioskBoard, current_rotation, load_board

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = datetime(2025, 3, 14, tzinfo=VN)


def at(hour: int, minute: int = 0, day: datetime = DAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def rotation(delivery_id: str, start: datetime, end: datetime, *slides: Slide, code: str = "xa-an-binh"):
    return Delivery(
        id=delivery_id,
        station_code=code,
        station_name="Xã An Bình",
        outlet="bang-tin",
        start_at=start,
        end_at=end,
        slides=slides or (Slide("s", f"Bản tin {delivery_id}", 20, title="Bản tin"),),
    )


def board(tmp_path: Path, keep: int = 14) -> KioskBoard:
    return KioskBoard(KioskBoard.Options(type="kiosk", dir=tmp_path, keep=keep))


def test_board_document_holds_slides_as_the_page_needs_them(tmp_path: Path) -> None:
    image = tmp_path / "src" / "ban-do.PNG"
    image.parent.mkdir()
    image.write_bytes(b"\x89PNG fake map")
    slides = (
        Slide("lich-tiem", "Tiêm chủng mở rộng ngày 20/3 tại trạm y tế xã.", 20, "Tiêm chủng", "y-te", image),
        Slide("mua-lu", "Đề phòng mưa lũ, không qua ngầm tràn.", 0, "Phòng chống lũ"),
    )

    receipt = board(tmp_path).deliver(rotation("r-1", at(6), at(12), *slides))

    assert receipt.location == str(tmp_path / "xa-an-binh" / "board.json")
    document = load_board(tmp_path, "xa-an-binh")
    assert document is not None
    assert document["station"] == "xa-an-binh"
    assert document["station_name"] == "Xã An Bình"
    [stored] = document["rotations"]
    assert stored["id"] == "r-1"
    assert stored["valid_from"] == "2025-03-14T06:00:00+07:00"
    assert stored["valid_until"] == "2025-03-14T12:00:00+07:00"
    first, second = stored["slides"]
    assert {k: v for k, v in first.items() if k != "image"} == {
        "ref": "lich-tiem",
        "title": "Tiêm chủng",
        "text": "Tiêm chủng mở rộng ngày 20/3 tại trạm y tế xã.",
        "seconds": 20,
        "campaign": "y-te",
        "valid_until": None,
    }
    assert (tmp_path / first["image"]).read_bytes() == b"\x89PNG fake map"
    assert first["image"].startswith("xa-an-binh/media/") and first["image"].endswith(".png")
    assert second["seconds"] == 15  # the board's default when the slide does not say
    assert second["image"] is None


def test_current_rotation_follows_the_clock(tmp_path: Path) -> None:
    kiosk = board(tmp_path)
    kiosk.deliver(rotation("chieu", at(12), at(18)))  # delivered out of order on purpose
    kiosk.deliver(rotation("sang", at(6), at(12)))
    kiosk.deliver(rotation("khan", at(11), at(13)))  # an urgent notice overlapping both

    document = load_board(tmp_path, "xa-an-binh")
    assert document is not None
    assert [r["id"] for r in document["rotations"]] == ["sang", "khan", "chieu"]

    def showing(when: datetime) -> str | None:
        found = current_rotation(document, when)
        return found["id"] if found else None

    assert showing(at(5, 59)) is None
    assert showing(at(7)) == "sang"
    assert showing(at(11, 30)) == "khan"  # the latest-starting window wins
    assert showing(at(13)) == "chieu"  # end is exclusive
    assert showing(datetime(2025, 3, 14, 8, 0, tzinfo=UTC)) == "chieu"  # 15:00 in Vietnam
    assert showing(at(18)) is None


def test_redelivery_of_a_rotation_replaces_it(tmp_path: Path) -> None:
    kiosk = board(tmp_path)
    kiosk.deliver(rotation("sang", at(6), at(12), Slide("a", "Bản cũ", 10)))
    kiosk.deliver(rotation("sang", at(6), at(12), Slide("a", "Bản đã sửa", 10)))

    document = load_board(tmp_path, "xa-an-binh")
    assert document is not None
    assert [r["id"] for r in document["rotations"]] == ["sang"]
    assert document["rotations"][0]["slides"][0]["text"] == "Bản đã sửa"


def test_only_the_newest_rotations_are_kept(tmp_path: Path) -> None:
    kiosk = board(tmp_path, keep=3)
    for n in (3, 1, 5, 2, 4):
        day = DAY + timedelta(days=n)
        kiosk.deliver(rotation(f"ngay-{n}", at(6, day=day), at(18, day=day)))

    document = load_board(tmp_path, "xa-an-binh")
    assert document is not None
    assert [r["id"] for r in document["rotations"]] == ["ngay-3", "ngay-4", "ngay-5"]


def test_images_of_dropped_rotations_are_removed(tmp_path: Path) -> None:
    kiosk = board(tmp_path, keep=1)
    old_image, new_image = tmp_path / "old.jpg", tmp_path / "new.jpg"
    old_image.write_bytes(b"old")
    new_image.write_bytes(b"new")
    kiosk.deliver(rotation("r-1", at(6), at(12), Slide("a", "Cũ", 10, image_path=old_image)))
    kiosk.deliver(rotation("r-2", at(12), at(18), Slide("b", "Mới", 10, image_path=new_image)))

    media = list((tmp_path / "xa-an-binh" / "media").iterdir())
    assert [p.read_bytes() for p in media] == [b"new"]


def test_missing_image_or_empty_rotation_is_refused(tmp_path: Path) -> None:
    missing = Slide("a", "Có ảnh", 10, image_path=tmp_path / "missing.png")
    with pytest.raises(PermanentError, match="image missing"):
        board(tmp_path).deliver(rotation("r-1", at(6), at(12), missing))

    empty = Delivery("r-2", "xa-an-binh", "Xã An Bình", "bang-tin", at(6), at(12))
    with pytest.raises(PermanentError, match="no slides"):
        board(tmp_path).deliver(empty)
    assert load_board(tmp_path, "xa-an-binh") is None


def test_load_board_refuses_unsafe_station_codes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_board(tmp_path, "../secrets")


def test_a_slide_leaves_the_board_when_its_piece_expires(tmp_path: Path) -> None:
    kiosk = board(tmp_path)
    kiosk.deliver(rotation(
        "ngay", at(0), at(23, 59),
        Slide("hop-dan", "Họp dân lúc 9 giờ sáng nay tại nhà văn hóa.", 15, valid_until=at(10)),
        Slide("thu-vien", "Thư viện mở cửa cả ngày.", 15),
    ))
    document = load_board(tmp_path, "xa-an-binh")
    assert [s["ref"] for s in current_rotation(document, at(9, 59))["slides"]] == ["hop-dan", "thu-vien"]
    assert [s["ref"] for s in current_rotation(document, at(10))["slides"]] == ["thu-vien"]


def test_a_rotation_that_supersedes_another_replaces_it_in_the_document(tmp_path: Path) -> None:
    kiosk = board(tmp_path)
    kiosk.deliver(rotation("r-old", at(0), at(23, 59), Slide("a", "68 tuổi", 15)))
    kiosk.deliver(rotation("r-tomorrow", at(0, day=DAY + timedelta(days=1)), at(23, 59, DAY + timedelta(days=1))))
    new = rotation("r-new", at(0), at(23, 59), Slide("a", "69 tuổi", 15))
    kiosk.deliver(Delivery(**{**new.__dict__, "replaces": ("r-old",)}))

    document = load_board(tmp_path, "xa-an-binh")
    assert [r["id"] for r in document["rotations"]] == ["r-new", "r-tomorrow"]
    assert [s["text"] for s in current_rotation(document, at(10))["slides"]] == ["69 tuổi"]


def _alert(delivery_id: str, issued: datetime, *, ref: str = "khan-1", all_clear: bool = False,
           until: datetime | None = None, repeat: int = 0) -> Delivery:
    from channels import Alert

    return Delivery(id=delivery_id, station_code="xa-an-binh", station_name="Xã An Bình", outlet="bang-tin",
                    start_at=issued, end_at=until or issued + timedelta(hours=6), level="emergency",
                    alert=Alert(ref=ref, title="Cháy rừng", text="Cháy rừng ở thôn 3, không vào rừng.",
                                issued_at=issued, until=until, all_clear=all_clear, repeat=repeat))


def test_an_emergency_goes_into_the_board_document_once_and_its_all_clear_takes_it_out(tmp_path: Path) -> None:
    from channels.board.kiosk import current_alert

    kiosk = board(tmp_path)
    kiosk.deliver(rotation("sang", at(6), at(12)))
    receipt = kiosk.deliver(_alert("khan-1", at(7)))
    kiosk.deliver(_alert("khan-1-lap-1", at(7), repeat=1))  # a repeat replaces it
    kiosk.deliver(rotation("sang-2", at(6), at(12)))  # a rotation pushed meanwhile keeps it

    document = load_board(tmp_path, "xa-an-binh")
    assert receipt.details == {"alert": "khan-1", "all_clear": False, "alerts": 1}
    [stored] = document["alerts"]
    assert stored["delivery_id"] == "khan-1-lap-1" and stored["repeat"] == 1
    assert current_alert(document, at(7, 30))["title"] == "Cháy rừng"
    assert current_alert(document, at(6, 59)) is None  # not before it was issued
    assert [r["id"] for r in document["rotations"]] == ["sang", "sang-2"]

    cleared = kiosk.deliver(_alert("khan-1-het", at(9), all_clear=True))
    kiosk.deliver(_alert("khan-1-het", at(9), all_clear=True))  # a retry of the all-clear changes nothing

    document = load_board(tmp_path, "xa-an-binh")
    assert cleared.details["alerts"] == 0 and "alerts" not in document
    assert current_alert(document, at(9, 30)) is None


def test_an_emergency_with_an_end_leaves_by_itself_and_the_newest_of_two_shows(tmp_path: Path) -> None:
    from channels.board.kiosk import current_alert

    kiosk = board(tmp_path)
    kiosk.deliver(_alert("lu", at(7), ref="lu", until=at(8)))
    kiosk.deliver(_alert("chay", at(7, 30), ref="chay"))

    document = load_board(tmp_path, "xa-an-binh")
    assert current_alert(document, at(7, 15))["ref"] == "lu"
    assert current_alert(document, at(7, 45))["ref"] == "chay"
    kiosk.deliver(_alert("chay-het", at(7, 50), ref="chay", all_clear=True))
    document = load_board(tmp_path, "xa-an-binh")
    assert current_alert(document, at(7, 55))["ref"] == "lu"
    assert current_alert(document, at(8)) is None
