"""`loa --json plan` explains itself: every reason a piece was not placed or a target not met, and what changed."""

from __future__ import annotations

from pathlib import Path

from conftest import MONDAY

NOW = MONDAY.replace(hour=0, minute=30).isoformat()  # both of Monday's programs are ahead
EDITOR, APPROVER = "bien-tap", "duyet"
SENTENCE = "Mời bà con đến nhà văn hóa thôn dự họp bàn về việc làm đường bê tông. "

CAMPAIGNS = """
[[campaign]]
code = "cao"
name = "Chiến dịch ưu tiên cao"
from = 2026-01-01
to = 2027-12-31
priority = 9
per_day = 2
outlets = ["loudspeaker"]

[[campaign]]
code = "thap"
name = "Chiến dịch ưu tiên thấp"
from = 2026-01-01
to = 2027-12-31
priority = 2
per_day = 1
outlets = ["loudspeaker"]

[[campaign]]
code = "dai"
name = "Chiến dịch bài dài"
from = 2026-01-01
to = 2027-12-31
priority = 8
per_day = 1
outlets = ["loudspeaker"]

[[campaign]]
code = "trong"
name = "Chiến dịch chưa có bài"
from = 2026-01-01
to = 2027-12-31
priority = 5
per_day = 1
outlets = ["loudspeaker"]

[[campaign]]
code = "it"
name = "Chiến dịch ít bài"
from = 2026-01-01
to = 2027-12-31
priority = 5
per_day = 3
outlets = ["board"]

[[campaign]]
code = "tuan-hoc-tap"
name = "Tuần lễ hưởng ứng học tập suốt đời"
yearly = "10-01..10-07"
priority = 7
per_day = 1
"""


def _piece(cli, title: str, sentences: int, *extra: str) -> int:
    piece = int(cli("piece", "add", "--title", title, "--body", SENTENCE * sentences, *extra, now=NOW,
                    user=EDITOR).stdout)
    cli("piece", "submit", str(piece), now=NOW, user=EDITOR)
    cli("piece", "approve", str(piece), now=NOW, user=APPROVER)
    return piece


def _overhead(config_dir: Path) -> float:
    """What every loudspeaker program spends besides its pieces and the gaps between them."""
    from content.render.program import program_overhead_s
    from loa.settings import load_settings

    render = load_settings(config_dir, env={}).render
    return program_overhead_s(None, render) + render.audio.gap_s


def test_every_reason_appears_in_the_json_of_loa_plan(cli, config_dir: Path) -> None:
    (config_dir / "campaigns.toml").write_text(CAMPAIGNS, encoding="utf-8")
    cli("init", now=NOW)
    cli("user", "add", EDITOR, "--role", "editor", now=NOW)
    cli("user", "add", APPROVER, "--role", "approver", now=NOW)
    speaker = ("--channels", "loudspeaker")
    high = [_piece(cli, f"Cao {n}", 2, "--campaign", "cao", *speaker) for n in (1, 2)]
    low = _piece(cli, "Thấp", 2, "--campaign", "thap", *speaker)
    long_ = _piece(cli, "Bài dài", 8, "--campaign", "dai", *speaker)
    few = _piece(cli, "Ít", 1, "--campaign", "it", "--channels", "board")
    off = _piece(cli, "Học tập suốt đời", 1, "--campaign", "tuan-hoc-tap", *speaker)
    later = _piece(cli, "Tháng sau", 1, "--valid-from", "2026-12-20", *speaker)
    plain = _piece(cli, "Tin thường", 2, "--channels", "loudspeaker,portal")

    # The slots hold one medium piece each: as long as the longest medium piece and the program's
    # jingles and closing gap, plus two seconds.
    medium = max(cli.json("render", str(piece), now=NOW)["duration_s"] for piece in (*high, low, plain))
    assert cli.json("render", str(long_), now=NOW)["duration_s"] > 2 * medium + 3
    length = f"{int(medium + _overhead(config_dir)) + 2}s"
    (config_dir / "schedule.toml").write_text(f"""
[[slot]]
name = "sang"
outlet = "loudspeaker"
at = "06:00"
length = "{length}"

[[slot]]
name = "chieu"
outlet = "loudspeaker"
at = "17:00"
length = "{length}"

[[slot]]
name = "bang-tin"
outlet = "board"
at = "00:00"
length = "24h"
""", encoding="utf-8")
    cli("init", now=NOW)

    planned = cli.json("plan", "--days", "1", now=NOW)
    unplaced = {(u["piece"], u["outlet"]): u["code"] for u in planned["unplaced"]}
    assert unplaced == {
        (low, "loudspeaker"): "no_room",
        (long_, "loudspeaker"): "too_long",
        (off, "loudspeaker"): "campaign_off",
        (later, "loudspeaker"): "not_valid",
        (plain, "loudspeaker"): "no_room",
        (plain, "portal"): "no_slot",
    }
    assert all(u["reason"] for u in planned["unplaced"])
    unmet = {(s["campaign"], s["outlet"]): (s["code"], s["placed"], s["wanted"]) for s in planned["unmet_targets"]}
    assert unmet == {
        ("thap", "loudspeaker"): ("full", 0, 1),
        ("dai", "loudspeaker"): ("too_long", 0, 1),
        ("trong", "loudspeaker"): ("no_pieces", 0, 1),
        ("it", "board"): ("too_few_pieces", 1, 3),
    }
    assert {(s["station"], s["campaign"]) for s in planned["unmet_targets"]} == {
        (station, campaign) for station in ("99001", "99002", "99003")
        for campaign in ("thap", "dai", "trong", "it")}
    assert planned["unmet_targets_total"] == 12
    # every airing added is listed, with where it goes
    assert planned["airings_added"] == len(planned["added"]) == 3 * (2 + 1)  # two programs and one board each
    assert {a["piece"] for a in planned["added"]} == {*high, few}

    text = cli("plan", "--days", "1", now=NOW).stdout
    assert "+0 added, ~0 moved, −0 dropped" in text
    assert "target not met: campaign thap on loudspeaker, 3 station-days" in text
    assert f"not placed: piece {long_} «Bài dài» on loudspeaker (3 stations): it lasts" in text

    # The same reasons in the command line's own language (Vietnamese unless asked otherwise), codes kept in JSON.
    vietnamese = cli("plan", "--days", "1", now=NOW, lang=None).stdout
    assert "+0 thêm, ~0 dời, −0 bỏ" in vietnamese
    assert "chưa đạt chỉ tiêu: chiến dịch thap trên loa truyền thanh, 3 ngày-xã" in vietnamese
    assert f"không xếp được: bài {long_} «Bài dài» trên loa truyền thanh (3 xã): bài dài" in vietnamese
    said = {(u["piece"], u["outlet"]): (u["code"], u["text"])
            for u in cli.json("plan", "--days", "1", now=NOW, lang=None)["unplaced"]}
    assert said[(plain, "portal")] == ("no_slot", "không có khung giờ cổng thông tin nào trong những ngày này")
    assert said[(later, "loudspeaker")] == ("not_valid", "ngoài thời hạn hiệu lực của bài trong những ngày này")
