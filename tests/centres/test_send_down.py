"""Issue 19, bulletins flow down: a province sends an approved bulletin down; communes accept, decline or ignore it;
each state shows at the province; what a commune accepted airs and is reported as aired at every level; the same
bulletin at priority level airs in every commune without anyone doing anything."""

from __future__ import annotations

from datetime import datetime

from centres_support import STATION
from sqlalchemy import select

from content.db import unit_of_work
from scheduler.models import PlanRequest

ZONE_TIME = "2026-11-23T{}:00+07:00"  # the Monday of tests/conftest.py, local time
TITLE = "Lịch tiêm chủng mở rộng tháng 12"
BODY = ("Trạm y tế các xã tổ chức tiêm chủng mở rộng cho trẻ dưới năm tuổi vào sáng thứ Bảy. "
        "Bà con lưu ý đưa con em đi tiêm đúng lịch.")


def at(hhmm: str) -> str:
    return ZONE_TIME.format(hhmm)


def _approved_province_piece(cli) -> int:
    piece = int(cli("piece", "add", "--title", TITLE, "--body", BODY, "--channels", "loudspeaker", now=at("08:00"),
                    user="bt-TINH").stdout.strip())
    cli("piece", "submit", str(piece), now=at("08:00"), user="bt-TINH")
    cli("piece", "approve", str(piece), now=at("08:00"), user="dd-TINH")
    return piece


def _afternoon(cli) -> dict[str, list[str]]:
    """Station → titles of its 17:00 loudspeaker program, as ``loa schedule`` shows it."""
    out: dict[str, list[str]] = {}
    for row in cli.json("schedule", "--outlet", "loudspeaker", now=at("08:05")):
        if datetime.fromisoformat(row["start_at"]) == datetime.fromisoformat(at("17:00")):
            out[row["station"]] = [item["title"] for item in row["items"]]
    return out


def _by_centre(status: dict) -> dict[str, dict]:
    return {row["centre"]: row for row in status["centres"]}


def _by_commune(status: dict) -> dict[str, dict]:
    return {row["centre"]: row for row in status["communes"]}


def test_normal_bulletin_accepted_declined_ignored_and_aired_then_priority_airs_everywhere(centre_tree):
    cli = centre_tree.cli
    piece = _approved_province_piece(cli)

    sent = cli.json("bulletin", "send", str(piece), "--to", "DONG", "--to", "TAY", "--level", "normal",
                    "--note", "Đề nghị các xã phát trong tuần", now=at("08:01"), user="bt-TINH")
    bulletin = sent["id"]
    assert sent["communes"] == sorted(["TANLAP", "HOABINH", "PHUXUAN", "ANTHAI"])

    # Every commune finds it in its inbox (Bản tin cấp trên); a district receives nothing itself.
    for commune in ("TANLAP", "HOABINH", "PHUXUAN", "ANTHAI"):
        inbox = cli.json("bulletin", "inbox", now=at("08:02"), user=f"bt-{commune}")
        assert [(row["id"], row["title"], row["state"]) for row in inbox] == [(bulletin, TITLE, "received")]
    assert cli.json("bulletin", "inbox", now=at("08:02"), user="bt-DONG") == []

    # Only an editor of the receiving commune decides for it; a reason is required to decline.
    refused = cli("bulletin", "accept", str(bulletin), now=at("08:03"), user="bt-DONG", ok=False)
    assert refused.exit_code != 0 and "was not sent to centre DONG" in refused.stderr
    no_reason = cli("bulletin", "decline", str(bulletin), now=at("08:03"), user="bt-HOABINH", ok=False)
    assert no_reason.exit_code != 0 and "reason" in no_reason.stderr

    cli("bulletin", "accept", str(bulletin), now=at("08:03"), user="bt-TANLAP")
    cli("bulletin", "decline", str(bulletin), "--reason", "Xã đã phát nội dung này tuần trước", now=at("08:03"),
        user="bt-HOABINH")
    # PHUXUAN and ANTHAI do nothing.

    # The acceptance queued a re-plan of the commune's station by itself (the live loop picks it up).
    with unit_of_work(centre_tree.services.sessions) as session:
        requests = [row.stations for row in session.scalars(select(PlanRequest).where(
            PlanRequest.action == "bulletin.accept"))]
    assert requests == [[STATION["TANLAP"]]]

    # Each state shows at the province, per commune and per district.
    status = cli.json("bulletin", "status", str(bulletin), now=at("08:04"), user="bt-TINH")
    communes = _by_commune(status)
    assert {c: row["state"] for c, row in communes.items()} == {
        "TANLAP": "accepted", "HOABINH": "declined", "PHUXUAN": "received", "ANTHAI": "received"}
    assert communes["HOABINH"]["reason"] == "Xã đã phát nội dung này tuần trước"
    centres = _by_centre(status)
    assert {c: (r["received"], r["accepted"], r["declined"], r["aired"]) for c, r in centres.items()} == {
        "TINH": (4, 1, 1, 0), "DONG": (2, 1, 1, 0), "TAY": (2, 0, 0, 0)}
    # A commune reads only its own part.
    assert [r["centre"] for r in cli.json("bulletin", "status", str(bulletin), now=at("08:04"),
                                          user="bt-PHUXUAN")["communes"]] == ["PHUXUAN"]

    # Planned: only the accepting commune's station carries it.
    cli("plan", "--days", "1", now=at("08:05"))
    afternoon = _afternoon(cli)
    assert TITLE in afternoon[STATION["TANLAP"]]
    for commune in ("HOABINH", "PHUXUAN", "ANTHAI"):
        assert TITLE not in afternoon.get(STATION[commune], []), commune

    # 16:58: the 17:00 programs go out through the folder outlet; the accepted one has aired at every level.
    pushed = cli.json("dispatch", now=at("16:58"))
    assert pushed.get("delivered", 0) >= 1 and not pushed.get("refused"), pushed
    playlist = centre_tree.config_dir.parent / "var" / "out" / "loudspeaker" / STATION["TANLAP"] / "2026-11-23"
    assert TITLE in (playlist / "1700.m3u8").read_text(encoding="utf-8")
    status = cli.json("bulletin", "status", str(bulletin), now=at("17:10"), user="bt-TINH")
    assert _by_commune(status)["TANLAP"]["aired"] == 1
    assert {c: r["aired"] for c, r in _by_centre(status).items()} == {"TINH": 1, "DONG": 1, "TAY": 0}
    district = cli.json("bulletin", "status", str(bulletin), now=at("17:10"), user="bt-DONG")  # its own part
    assert {c: r["aired"] for c, r in _by_centre(district).items()} == {"DONG": 1}
    assert {c: (r["state"], r["aired"]) for c, r in _by_commune(district).items()} == {
        "TANLAP": ("accepted", 1), "HOABINH": ("declined", 0)}
    commune = cli.json("bulletin", "status", str(bulletin), now=at("17:10"), user="bt-TANLAP")
    assert [(r["centre"], r["aired"]) for r in commune["communes"]] == [("TANLAP", 1)]

    # --- the same bulletin at priority level: in every commune's programs at once, at their head -------------
    urgent = cli.json("bulletin", "send", str(piece), "--to", "DONG", "--to", "TAY", "--level", "priority",
                      now=at("17:20"), user="bt-TINH")["id"]
    # Nothing to do: the priority one waits in no inbox (the normal one still waits where it was ignored).
    assert [row["id"] for row in cli.json("bulletin", "inbox", now=at("17:20"), user="bt-ANTHAI")] == [bulletin]
    cli("plan", "--days", "2", now=at("17:21"))
    tuesday = {}
    for row in cli.json("schedule", "--outlet", "loudspeaker", now=at("17:21")):
        if datetime.fromisoformat(row["start_at"]) == datetime.fromisoformat("2026-11-24T06:00:00+07:00"):
            tuesday[row["station"]] = [item["title"] for item in row["items"]]
    for commune, code in STATION.items():
        assert tuesday[code][:1] == [TITLE], (commune, tuesday[code])
    pushed = cli.json("dispatch", now="2026-11-24T05:58:00+07:00")
    assert pushed.get("delivered", 0) >= 4, pushed
    status = cli.json("bulletin", "status", str(urgent), now="2026-11-24T06:10:00+07:00", user="bt-TINH")
    assert {c: r["state"] for c, r in _by_commune(status).items()} == dict.fromkeys(STATION, "planned")
    assert all(row["aired"] >= 1 for row in status["communes"]), status["communes"]
    assert {c: r["aired"] for c, r in _by_centre(status).items()} == {"TINH": 4, "DONG": 2, "TAY": 2}

    # The results report rolls the bulletins up the tree: per centre, received, accepted, aired.
    report = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-24", "--by", "centre", "--format", "json",
                      now="2026-11-24T07:00:00+07:00", user="bt-TINH")
    rolled = {item["centre"]: item["sent_down"] for item in report["by_centre"] if item["total"]}
    assert rolled["TINH"] == {"received": 8, "accepted": 5, "aired": 5}  # 4 normal (1 taken, aired) + 4 priority
    assert rolled["DONG"] == {"received": 4, "accepted": 3, "aired": 3}
    assert rolled["HOABINH"] == {"received": 2, "accepted": 1, "aired": 1}  # declined, then at priority
