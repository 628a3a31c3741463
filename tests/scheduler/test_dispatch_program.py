"""A loudspeaker delivery carries its whole program: one MP3 at the target loudness, as long as its parts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import channels
from channels.base import ChannelOptions
from content.render import audio
from content.render.loudness import measure
from scheduler.dispatch.dispatcher import Dispatcher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import EDITOR, at, setup_accounts

BODY = "Ngày 21/4, thư viện xã mở cửa từ 7h30. Mời bà con đến đọc sách."


class Recorder(channels.Channel):
    kind = "loudspeaker.recorder"
    Options = ChannelOptions
    seen: list[channels.Delivery] = []  # noqa: RUF012 - one list for the test

    def deliver(self, delivery: channels.Delivery) -> channels.Receipt:
        Recorder.seen.append(delivery)
        return channels.Receipt(delivery.id, "memory")


def test_a_loudspeaker_delivery_carries_the_assembled_program(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    early = at("05:00")
    setup_accounts(cli, early)
    for title in ("Ngày Sách", "Tiêm chủng"):
        piece = cli("piece", "add", "--title", title, "--body", BODY, "--channels", "loudspeaker",
                    now=early, user=EDITOR).stdout.strip()
        cli("piece", "submit", piece, now=early, user=EDITOR)
        cli("piece", "approve", piece, now=early, user="duyet-hung")
    cli("plan", "--days", "1", now=early)
    Recorder.seen = []
    monkeypatch.setattr(Dispatcher, "channel", lambda self, code, outlet: Recorder(ChannelOptions(
        type="recorder")))
    cli("dispatch", now=at("05:58:30"))

    speakers = [d for d in Recorder.seen if d.outlet == "loudspeaker"]
    assert speakers
    for delivery in speakers:
        program = delivery.program
        assert program is not None and program.path.is_file()
        assert len(delivery.clips) >= 2  # the folder playlist still gets one MP3 per piece
        decoded = audio.decode(program.path)
        jingles = 2.5 + 2.5  # config/jingles/intro.mp3 and outro.mp3
        parts = jingles + sum(len(audio.decode(c.path)) / 1000 + 1.0 for c in delivery.clips)  # gap_s = 1.0
        assert len(decoded) / 1000 == pytest.approx(parts, abs=0.05)
        assert program.duration_s == pytest.approx(parts, abs=0.05)
        samples = audio.samples_of(decoded).astype(np.float64) / 32768
        assert measure(samples, decoded.frame_rate).lufs == pytest.approx(-16, abs=1.0)
    assert len({d.program.sha256 for d in speakers}) == len(speakers)  # station name is in the tags


def test_a_full_slot_is_planned_so_its_assembled_program_fits(cli, config_dir: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The planner counts the jingles and every gap, so the program as assembled never overruns its slot."""
    schedule = config_dir / "schedule.toml"
    schedule.write_text(schedule.read_text("utf-8").replace('length = "30m"', 'length = "40s"', 1), "utf-8")
    early = at("05:00")
    setup_accounts(cli, early)
    for n in range(6):
        piece = cli("piece", "add", "--title", f"Tin số {n + 1}", "--body", BODY, "--channels", "loudspeaker",
                    now=early, user=EDITOR).stdout.strip()
        cli("piece", "submit", piece, now=early, user=EDITOR)
        cli("piece", "approve", piece, now=early, user="duyet-hung")
    cli("plan", "--days", "1", now=early)
    Recorder.seen = []
    monkeypatch.setattr(Dispatcher, "channel", lambda self, code, outlet: Recorder(ChannelOptions(
        type="recorder")))
    cli("dispatch", now=at("05:58:30"))

    morning = [d for d in Recorder.seen if d.outlet == "loudspeaker" and d.start_at.hour == 6]
    assert morning
    for delivery in morning:
        assert 1 <= len(delivery.clips) < 6  # the slot is too short for all six pieces
        assert delivery.program is not None
        assert len(audio.decode(delivery.program.path)) / 1000 <= 40.0


def test_a_program_missing_when_prepared_is_handed_back_and_rendered_first_not_under_the_lock(
        cli, services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preparing a payload only reads stored renditions: a program not assembled by then (it changed after
    rendering ahead) is handed back untried, rendered outside the transaction, and pushed in the same run."""
    from sqlalchemy import select

    from content.db import unit_of_work
    from content.models import AuditEvent
    from scheduler.dispatch.payloads import Payloads

    early = at("05:00")
    setup_accounts(cli, early)
    piece = cli("piece", "add", "--title", "Ngày Sách", "--body", BODY, "--channels", "loudspeaker",
                now=early, user=EDITOR).stdout.strip()
    cli("piece", "submit", piece, now=early, user=EDITOR)
    cli("piece", "approve", piece, now=early, user="duyet-hung")
    cli("plan", "--days", "1", now=early)
    render_ahead, calls = Payloads.render_ahead, []

    def late_the_first_time(self, sessions, ids, now):
        calls.append(list(ids))
        return {} if len(calls) == 1 else render_ahead(self, sessions, ids, now)

    monkeypatch.setattr(Payloads, "render_ahead", late_the_first_time)
    Recorder.seen = []
    monkeypatch.setattr(Dispatcher, "channel", lambda self, code, outlet: Recorder(ChannelOptions(
        type="recorder")))
    counts = cli.json("dispatch", now=at("05:58:30"))

    speakers = [d for d in Recorder.seen if d.outlet == "loudspeaker"]
    assert counts == {"delivered": 3} and len(speakers) == 3, counts
    assert all(d.program is not None and d.program.path.is_file() for d in speakers)
    assert len(calls) == 2 and sorted(calls[1]) == sorted(d.id for d in speakers)
    with unit_of_work(services.sessions) as session:
        released = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "delivery.release")).all()
    assert len(released) == 3 and all("changed while it was being prepared" in d["reason"] for d in released)
