"""Speech renditions and loudspeaker programs: reused, loudness-normalised, exact in length, with
uploaded recordings replacing speech and gTTS falling back to the offline engine."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import requests
import responses
from mutagen.id3 import ID3
from scipy.signal import resample_poly

from content.config import AudioSettings, RenderSettings, SpeechSettings
from content.db import unit_of_work
from content.media import media_path
from content.models import Revision
from content.pieces import PieceContent, add_piece
from content.render import audio, speech
from content.render.jingles import write_demo_jingles
from content.render.program import ProgramPart, assemble_program, ensure_airtime, program_overhead_s
from content.render.renditions import ensure_speech
from content.users import add_user
from loa.wiring import Services

from conftest import MONDAY

GTTS_URL = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"
BODY = ("Ngày 21/4/2026, Thư viện xã tổ chức Ngày Sách và Văn hóa đọc. "
        "Mời bà con đến đọc sách, mượn sách từ 7h30 đến 11h.")


def tone(seconds: float, freq: float = 440.0, rate: int = 44100, level: float = 0.3) -> audio.AudioSegment:
    t = np.arange(int(seconds * rate)) / rate
    samples = (level * 32767 * np.sin(2 * math.pi * freq * t)).astype(np.int16)[:, None]
    return audio.segment_of(samples, rate=rate)


@pytest.fixture
def render(services: Services, tmp_path: Path) -> RenderSettings:
    return services.settings.render


@pytest.fixture
def revisions(services: Services) -> list[int]:
    """Ids of three revisions; tests load them in their own unit of work."""
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=MONDAY, actor="test")
        pieces = [add_piece(session, PieceContent(title=f"Tin số {n}", body=f"Bản tin thứ {n}. {BODY}"),
                            author=editor, now=MONDAY) for n in (1, 2, 3)]
        session.flush()
        return [p.current_revision_id for p in pieces]


def decoded_seconds(path: Path) -> float:
    return len(audio.decode(path)) / 1000


def loudness_of(path: Path) -> tuple[float, float]:
    """Integrated loudness by pyloudnorm and true peak by scipy's 4x resampler: independent of loa's own."""
    segment = audio.decode(path)
    signal = audio.samples_of(segment).astype(np.float64) / 32768
    peak = np.abs(resample_poly(signal, 4, 1, axis=0)).max()
    return pyloudnorm.Meter(segment.frame_rate).integrated_loudness(signal), 20 * math.log10(peak)


def test_a_rendition_is_at_target_loudness_and_reused_without_synthesis(
        services: Services, revisions: list[int], render: RenderSettings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with unit_of_work(services.sessions) as session:
        first = ensure_speech(session, session.get(Revision, revisions[0]), render, now=MONDAY)
        lufs, peak = loudness_of(Path(first.path))
        assert lufs == pytest.approx(-16, abs=1.0)
        assert peak <= -1.5
        assert first.details["loudness_lufs"] == pytest.approx(-16, abs=0.5)
        assert first.duration_s == pytest.approx(decoded_seconds(Path(first.path)), abs=0.05)

    def no_synthesis(*args: object, **kwargs: object) -> None:
        raise AssertionError("synthesised again")

    monkeypatch.setattr(speech.EspeakEngine, "synthesize", no_synthesis)
    with unit_of_work(services.sessions) as session:
        again = ensure_speech(session, session.get(Revision, revisions[0]), render, now=MONDAY)
    assert (again.key, again.path, again.sha256) == (first.key, first.path, first.sha256)


def test_three_pieces_with_jingles_add_up_and_meet_the_loudness_target(
        services: Services, revisions: list[int], tmp_path: Path) -> None:
    intro, outro = tmp_path / "intro.wav", tmp_path / "outro.mp3"
    tone(2.0, 660, level=0.8).export(intro, format="wav")
    audio.write_mp3(tone(1.5, 330, level=0.05), outro)
    base = services.settings.render
    settings = base.model_copy(update={"audio": base.audio.model_copy(update={
        "intro": intro, "outro": outro, "gap_s": 1.5})})
    with unit_of_work(services.sessions) as session:
        loaded = [session.get(Revision, r) for r in revisions]
        airtimes = [ensure_airtime(session, r, settings, now=MONDAY) for r in loaded]
        clips = [ensure_speech(session, r, settings, now=MONDAY) for r in loaded]
        titles = [r.title for r in loaded]
    overhead = program_overhead_s(None, settings)
    assert overhead == pytest.approx(2.0 + 1.5, abs=0.06)
    parts = [ProgramPart(t, Path(c.path), c.sha256) for t, c in zip(titles, clips, strict=True)]
    program = assemble_program(parts, settings, station="Xã Tân Lập", day=MONDAY.date(), title="Bản tin sáng")

    length = decoded_seconds(program.path)
    assert length == pytest.approx(overhead + sum(airtimes), abs=0.05)
    assert length == pytest.approx(2.0 + 1.5 + sum(decoded_seconds(Path(c.path)) + 1.5 for c in clips), abs=0.05)
    lufs, peak = loudness_of(program.path)
    assert lufs == pytest.approx(-16, abs=1.0)
    assert peak <= -1.5
    assert program.loudness_lufs == pytest.approx(-16, abs=0.5) and program.true_peak_db <= -1.5
    tags = ID3(program.path)
    assert (str(tags["TIT2"]), str(tags["TPE1"]), str(tags["TDRC"])) == ("Bản tin sáng", "Xã Tân Lập",
                                                                         "2026-11-23")
    assert assemble_program(parts, settings, station="Xã Tân Lập", day=MONDAY.date(),
                            title="Bản tin sáng") == program  # built once


def test_no_jingles_no_overhead(render: RenderSettings) -> None:
    assert program_overhead_s(None, render.model_copy(update={"audio": AudioSettings()})) == 0.0


def test_the_demo_ships_its_own_audible_jingles(render: RenderSettings, tmp_path: Path) -> None:
    assert program_overhead_s(None, render) == pytest.approx(5.0, abs=0.05)  # config/loa.toml [audio]
    intro, outro = write_demo_jingles(tmp_path)
    for path in (intro, outro):
        segment = audio.decode(path)
        assert 2 <= len(segment) / 1000 <= 3 and segment.dBFS > -30
    assert intro.read_bytes() != outro.read_bytes()


def test_an_uploaded_recording_replaces_the_speech(services: Services, revisions: list[int],
                                                   render: RenderSettings) -> None:
    recording = tone(6.0, 220, level=0.02)  # a quiet reader: brought up to the target like speech
    sha = "ab" * 32
    stored = media_path(render.media_dir, sha, ".mp3")
    stored.parent.mkdir(parents=True, exist_ok=True)
    audio.write_mp3(recording, stored)
    no_titles = render.model_copy(update={"audio": render.audio.model_copy(update={"spoken_titles": False})})
    with unit_of_work(services.sessions) as session:
        revision = session.get(Revision, revisions[1])
        revision.audio_sha256 = sha
        rendition = ensure_speech(session, revision, no_titles, now=MONDAY)
        titled = ensure_speech(session, revision, render, now=MONDAY)
    assert rendition.engine == "recording"
    assert decoded_seconds(Path(rendition.path)) == pytest.approx(6.0, abs=0.1)
    assert loudness_of(Path(rendition.path))[0] == pytest.approx(-16, abs=1.0)
    assert titled.engine == "espeak"  # the title is spoken, then the recording plays
    assert 6.5 < decoded_seconds(Path(titled.path)) < 12


def gtts_settings(render: RenderSettings) -> RenderSettings:
    return render.model_copy(update={"speech": SpeechSettings(engine="gtts", timeout_s=2),
                                     "audio": AudioSettings(spoken_titles=False)})


def gtts_answer(tmp_path: Path) -> str:
    mp3 = tmp_path / "google.mp3"
    audio.write_mp3(tone(1.2, 500, rate=24000), mp3, bitrate="32k")
    encoded = base64.b64encode(mp3.read_bytes()).decode()
    return ")]}'\n\n123\n" + f'[["wrb.fr","jQ1olc","[\\"{encoded}\\"]",null,null,null,"generic"]]\n'


@responses.activate
def test_gtts_speaks_when_google_answers(services: Services, revisions: list[int],
                                         render: RenderSettings, tmp_path: Path) -> None:
    responses.add(responses.POST, GTTS_URL, body=gtts_answer(tmp_path), status=200)
    with unit_of_work(services.sessions) as session:
        rendition = ensure_speech(session, session.get(Revision, revisions[0]), gtts_settings(render), now=MONDAY)
    calls = len(responses.calls)
    assert calls >= 1 and "vi" in requests.utils.unquote(responses.calls[0].request.body)
    assert rendition.engine == "gtts" and "fallback" not in rendition.details
    assert decoded_seconds(Path(rendition.path)) == pytest.approx(1.2 * calls, abs=0.1 * calls)


@pytest.mark.parametrize(("answer", "reason"), [
    ({"status": 503, "body": "quota"}, "503"),
    ({"body": requests.exceptions.ConnectTimeout("timed out")}, "gTTS"),
])
@responses.activate
def test_gtts_failure_falls_back_to_the_offline_engine_and_says_so(
        services: Services, revisions: list[int], render: RenderSettings, answer: dict,
        reason: str, cli) -> None:
    responses.add(responses.POST, GTTS_URL, **answer)
    with unit_of_work(services.sessions) as session:
        rendition = ensure_speech(session, session.get(Revision, revisions[0]), gtts_settings(render), now=MONDAY)
    assert rendition.engine == "espeak"
    fallback = rendition.details["fallback"]
    assert fallback["wanted"] == "gtts" and fallback["used"] == "espeak" and reason in fallback["reason"]
    assert decoded_seconds(Path(rendition.path)) > 5  # the piece is read, not left silent


def test_a_program_relayed_to_several_communes_is_assembled_once(
        services: Services, revisions: list[int], render: RenderSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    with unit_of_work(services.sessions) as session:
        loaded = [session.get(Revision, r) for r in revisions[:2]]
        parts = [ProgramPart(r.title, Path(c.path), c.sha256)
                 for r, c in ((r, ensure_speech(session, r, render, now=MONDAY)) for r in loaded)]
    first = assemble_program(parts, render, station="Xã Tân Lập", day=MONDAY.date(), title="Bản tin sáng")

    def no_assembly(*args: object, **kwargs: object) -> None:
        raise AssertionError("assembled again")

    monkeypatch.setattr(audio, "decode_pcm", no_assembly)
    monkeypatch.setattr(audio, "write_mp3", no_assembly)
    other = assemble_program(parts, render, station="Xã Bình Minh", day=MONDAY.date(), title="Bản tin sáng")

    assert other.path != first.path and other.sha256 != first.sha256
    assert (other.duration_s, other.loudness_lufs, other.true_peak_db) == (
        first.duration_s, first.loudness_lufs, first.true_peak_db)
    assert str(ID3(other.path)["TPE1"]) == "Xã Bình Minh" and str(ID3(first.path)["TPE1"]) == "Xã Tân Lập"
    assert audio.samples_of(audio.decode(other.path)).tobytes() == audio.samples_of(audio.decode(first.path)).tobytes()
    lufs, peak = loudness_of(other.path)
    assert lufs == pytest.approx(-16, abs=1.0) and peak <= -1.5
