"""A month of simulated loa edge devices for the report tests: two stations served by an edge (one of them off for a
week), one with none; pieces at two levels; as-played records drawn at random (whole, cut short, missing)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece
from content.users import add_user
from scheduler.models import Airing, AsPlayed, Delivery, EdgeDevice, Station

from conftest import MONDAY, ZONE

EDGES = ("99001", "99002")  # 99003 has no edge: its airings are pushed, never counted as aired or not
OFFLINE = (date(2026, 11, 10), date(2026, 11, 16))  # 99002's device is off: nothing comes back those days
LEVELS = ("normal", "priority")


def simulate_month(services) -> Counter:
    """Write the month; return the figures counted from what was written."""
    rng = random.Random(20261130)
    want: Counter = Counter()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=MONDAY)
        pieces = {}
        for level in LEVELS:
            piece = add_piece(session, PieceContent(f"Tin {level}", "Bà con lưu ý.", level=level), author=editor,
                              now=MONDAY)
            pieces[level] = (piece.id, piece.current_revision_id)
        stations = {s.code: s.id for s in session.query(Station)}
        devices = {}
        for code in EDGES:
            device = EdgeDevice(station_id=stations[code], outlet="loudspeaker", name=f"edge {code}",
                                token_hash=f"{code:0>64}", key="-", enrolled_at=MONDAY)
            session.add(device)
            session.flush()
            devices[code] = device.id
        seq = Counter()
        day = date(2026, 11, 1)
        while day <= date(2026, 11, 30):
            for code in ("99001", "99002", "99003"):
                for at in (time(6, 0), time(17, 0)):
                    start = datetime.combine(day, at, tzinfo=ZONE)
                    delivery = Delivery(id=f"{code}-{start:%Y%m%d%H%M}", station_id=stations[code],
                                        outlet="loudspeaker", slot_name=f"loa {at:%H:%M}", start_at=start,
                                        end_at=start + timedelta(minutes=30), due_at=start, state="delivered",
                                        attempts=1, created_at=MONDAY, updated_at=MONDAY)
                    session.add(delivery)
                    for position, level in enumerate(rng.sample(LEVELS, rng.randint(1, 2))):
                        piece_id, revision_id = pieces[level]
                        seconds = round(rng.uniform(30, 240), 1)
                        delivery.airings.append(Airing(position=position, piece_id=piece_id, revision_id=revision_id,
                                                       campaign=None, seconds=seconds))
                        if code not in EDGES:
                            continue
                        want[(level, "pushed")] += 1
                        offline = code == "99002" and OFFLINE[0] <= day <= OFFLINE[1]
                        played = 0.0 if offline else rng.choice((seconds, seconds, round(seconds / 3, 1), 0.0))
                        if played:
                            seq[code] += 1
                            session.add(AsPlayed(device_id=devices[code], seq=seq[code], delivery_id=delivery.id,
                                                 item=f"piece-{piece_id}-r1", started_at=start, played_s=played,
                                                 ended_at=start + timedelta(seconds=played),
                                                 complete=played == seconds, received_at=start))
                        outcome = "aired" if played == seconds else "aired_partial" if played else "not_aired"
                        want[(level, outcome)] += 1
                        want[(level, "seconds")] += played
            day += timedelta(days=1)
    return want
