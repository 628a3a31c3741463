"""What part of a program had played when an emergency cut it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels import AudioClip, Delivery
from channels.loudspeaker.icecast_sources import timeline
from channels.loudspeaker.played import cut_at


def test_pieces_played_through_and_those_left_a_piece_cut_part_way_is_left() -> None:
    items = [("intro", 5.0), ("piece-1-r1", 20.0), ("piece-2-r3", 30.0), ("outro", 5.0)]

    assert cut_at(items, 3.0) == {"played": [], "remaining": ["piece-1-r1", "piece-2-r3"]}
    assert cut_at(items, 25.0) == {"played": ["piece-1-r1"], "remaining": ["piece-2-r3"]}
    assert cut_at(items, 40.0) == {"played": ["piece-1-r1"], "remaining": ["piece-2-r3"]}
    assert cut_at(items, 57.0) == {"played": ["piece-1-r1", "piece-2-r3"], "remaining": []}


def test_an_assembled_programs_timeline_spreads_the_gaps_over_its_pieces() -> None:
    def clip(ref: str, seconds: float) -> AudioClip:
        return AudioClip(ref, ref, Path(f"/{ref}.mp3"), "0" * 64, seconds)

    now = datetime(2026, 11, 23, tzinfo=UTC)
    pieces = (clip("piece-1-r1", 20.0), clip("piece-2-r1", 30.0))
    delivery = Delivery(id="p", station_code="99001", station_name="Xã", outlet="loudspeaker", start_at=now,
                        end_at=now + timedelta(minutes=30), clips=pieces, intro=clip("intro", 5.0),
                        outro=clip("outro", 4.0), program=clip("program-p", 63.0))

    assert timeline(delivery) == [("intro", 5.0), ("piece-1-r1", 22.0), ("piece-2-r1", 32.0), ("outro", 4.0)]
    assert timeline(Delivery(id="q", station_code="99001", station_name="Xã", outlet="loudspeaker", start_at=now,
                              end_at=now, clips=pieces)) == [("piece-1-r1", 20.0), ("piece-2-r1", 30.0)]
