"""`loa demo` in a fresh copy of the config: a newcomer sees a real push on every outlet minutes later."""

from __future__ import annotations

from datetime import datetime, timedelta

import feedparser
from e2e_support import STATIONS, ZONE, out_dir, read_playlist

from channels.board.kiosk import current_rotation, load_board
from content.render.audio import decode

START = datetime(2026, 11, 23, 9, 0, 10, tzinfo=ZONE)


def test_the_demo_pushes_to_every_outlet_of_every_station_within_minutes(cli, config_dir):
    now = START.isoformat()
    assert not (config_dir.parent / "var").exists()  # a fresh copy: no database, nothing pushed

    loaded = cli.json("demo", now=now)
    assert loaded["pieces_added"] == 12
    assert sorted(loaded["stations"]) == list(STATIONS)
    first = datetime.fromisoformat(loaded["first_slot"])
    assert timedelta(seconds=60) <= first - START <= timedelta(seconds=120), first
    assert loaded["plan"]["deliveries_created"] > 0

    approved = cli.json("piece", "list", "--state", "approved", now=now)
    assert len(approved) == 12 and all(row["title"] for row in approved)
    demo_titles = {row["title"] for row in approved}

    rows = cli.json("schedule", "--days", "1", now=now)
    demo = [row for row in rows if row["slot"].startswith("demo-")]
    assert {(row["station"], row["outlet"]) for row in demo} == {
        (station, outlet) for station in STATIONS for outlet in ("loudspeaker", "board", "portal")}
    assert {datetime.fromisoformat(row["start_at"]) for row in demo} == {first}
    assert all(row["items"] for row in demo)

    # Idempotent: the demo loaded again adds nothing.
    assert cli.json("demo", now=now)["pieces_added"] == 0

    counts = cli.json("dispatch", "--until", (START + timedelta(minutes=3)).isoformat(), now=now)
    assert not counts.get("refused") and not counts.get("dead") and not counts.get("missed"), counts
    rows = cli.json("schedule", "--days", "1", now=now)
    assert {row["state"] for row in rows if row["slot"].startswith("demo-")} == {"delivered"}

    out = out_dir(config_dir)
    stem = first.strftime("%H%M")
    for station in STATIONS:
        entries = read_playlist(out / "loudspeaker" / station / first.strftime("%Y-%m-%d") / f"{stem}.m3u8")
        # The program's jingles open and close the playlist, as they open and close the assembled program.
        assert [title for _, title, _ in (entries[0], entries[-1])] == ["Nhạc hiệu mở đầu", "Nhạc hiệu kết thúc"]
        assert len(entries) > 2 and {title for _, title, _ in entries[1:-1]} <= demo_titles
        for seconds, _, mp3 in (entries[0], entries[1], entries[-1]):
            assert mp3.is_file()
            assert abs(decode(mp3).duration_seconds - seconds) <= 1.0

        document = load_board(out / "boards", station)
        assert document is not None
        rotation = current_rotation(document, first + timedelta(minutes=1))
        assert rotation is not None and rotation["slides"]
        assert {slide["title"] for slide in rotation["slides"]} <= demo_titles

        feed = feedparser.parse((out / "feeds" / station / "rss.xml").read_bytes())
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.entries and {entry.title for entry in feed.entries} <= demo_titles
        atom = feedparser.parse((out / "feeds" / station / "atom.xml").read_bytes())
        assert not atom.bozo and len(atom.entries) == len(feed.entries)

    everyone = feedparser.parse((out / "feeds" / "_all" / "rss.xml").read_bytes())
    assert not everyone.bozo
    assert {entry.title for entry in everyone.entries} <= demo_titles
    # one entry per article, however many communes it went to, each commune a category of it
    per_station = {s: feedparser.parse((out / "feeds" / s / "rss.xml").read_bytes()).entries for s in STATIONS}
    assert sorted(entry.title for entry in everyone.entries) == sorted(
        {entry.title for entries in per_station.values() for entry in entries})
    for entry in everyone.entries:
        communes = [tag.term for tag in entry.tags if (tag.get("scheme") or "").startswith("urn:loa:station:")]
        assert len(communes) == sum(any(e.title == entry.title for e in entries) for entries in per_station.values())
