"""PostgreSQL works by URL alone: the same demo journey runs on it, and its audit chain verifies."""

from __future__ import annotations

from datetime import timedelta

from conftest import MONDAY, Cli


def test_demo_plans_and_pushes_on_postgresql(config_dir, postgres_url):
    cli = Cli(config_dir)
    db = ["--db", postgres_url]
    demo = cli.json(*db, "demo", now=MONDAY)
    assert demo["pieces_added"] == 12
    pushed = cli.json(*db, "dispatch", "--until", (MONDAY + timedelta(minutes=3)).isoformat(), now=MONDAY)
    # three demo communes × the demo slot's loudspeaker, board and portal, and the 07:30 portal article, late
    assert pushed["delivered"] == 12 and not pushed.get("missed"), pushed
    assert cli(*db, "audit", "verify", now=MONDAY).exit_code == 0
    playlists = list((config_dir.parent / "var" / "out" / "loudspeaker").glob("*/2026-11-23/*.m3u8"))
    assert len(playlists) == 3
