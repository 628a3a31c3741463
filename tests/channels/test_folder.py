"""The folder loudspeaker adapter leaves whole, verified playlists a playout engine can play."""

from __future__ import annotations

import errno
import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

import channels.loudspeaker.folder as folder_module
from channels import AudioClip, Delivery, PermanentError, TransientError, open_channel
from channels.loudspeaker.folder import FolderLoudspeaker

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2025, 3, 14, 6, 30, tzinfo=VN)


def make_clip(src: Path, ref: str, title: str, duration_s: float, data: bytes) -> AudioClip:
    src.mkdir(parents=True, exist_ok=True)
    path = src / f"{ref}.mp3"
    path.write_bytes(data)
    return AudioClip(ref, title, path, hashlib.sha256(data).hexdigest(), duration_s)


def make_delivery(delivery_id: str, clips: tuple[AudioClip, ...], start: datetime = START) -> Delivery:
    return Delivery(
        id=delivery_id,
        station_code="xa-an-binh",
        station_name="Xã An Bình",
        outlet="loa",
        start_at=start,
        end_at=start + timedelta(minutes=30),
        clips=clips,
    )


@pytest.fixture
def clips(tmp_path: Path) -> tuple[AudioClip, AudioClip]:
    src = tmp_path / "src"
    return (
        make_clip(src, "tiem-chung", "Thông báo lịch tiêm chủng", 61.2, b"ID3 first clip"),
        make_clip(src, "thoi-tiet", "Tin thời tiết, mưa lớn", 30.0, b"ID3 second clip"),
    )


def adapter(tmp_path: Path) -> FolderLoudspeaker:
    return FolderLoudspeaker(FolderLoudspeaker.Options(type="folder", dir=tmp_path / "out"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_playlist_is_extended_m3u_with_verified_clips_beside_it(tmp_path: Path, clips) -> None:
    first, second = clips
    receipt = adapter(tmp_path).deliver(make_delivery("d-1", clips))

    slot = tmp_path / "out" / "xa-an-binh" / "2025-03-14"
    playlist = slot / "0630.m3u8"
    assert receipt.location == str(playlist)
    assert receipt.details == {"files": 2, "duration_s": 91.2}
    assert playlist.read_text(encoding="utf-8") == (
        "#EXTM3U\n"
        "#EXTINF:62,Thông báo lịch tiêm chủng\n"
        f"0630-01-{first.sha256[:12]}.mp3\n"
        "#EXTINF:30,Tin thời tiết, mưa lớn\n"
        f"0630-02-{second.sha256[:12]}.mp3\n"
    )
    entries = [line for line in playlist.read_text().splitlines() if not line.startswith("#")]
    for entry, clip in zip(entries, clips, strict=True):
        copied = slot / entry
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == clip.sha256
    assert sorted(p.name for p in slot.iterdir()) == sorted([*entries, "0630.json", "0630.m3u8"])


def test_the_jingles_of_the_program_open_and_close_the_playlist_with_their_durations(tmp_path: Path,
                                                                                     clips) -> None:
    src = tmp_path / "src"
    intro = make_clip(src, "intro", "Nhạc hiệu mở đầu", 2.5, b"ID3 rising chime")
    outro = make_clip(src, "outro", "Nhạc hiệu kết thúc", 2.1, b"ID3 falling chime")
    delivery = replace(make_delivery("d-1", clips), intro=intro, outro=outro)

    receipt = adapter(tmp_path).deliver(delivery)

    slot = tmp_path / "out" / "xa-an-binh" / "2025-03-14"
    names = [f"0630-{n:02d}-{clip.sha256[:12]}.mp3" for n, clip in enumerate((intro, *clips, outro), start=1)]
    assert (slot / "0630.m3u8").read_text(encoding="utf-8") == (
        "#EXTM3U\n"
        f"#EXTINF:3,Nhạc hiệu mở đầu\n{names[0]}\n"
        f"#EXTINF:62,Thông báo lịch tiêm chủng\n{names[1]}\n"
        f"#EXTINF:30,Tin thời tiết, mưa lớn\n{names[2]}\n"
        f"#EXTINF:3,Nhạc hiệu kết thúc\n{names[3]}\n"
    )
    assert (slot / names[0]).read_bytes() == b"ID3 rising chime"
    assert (slot / names[3]).read_bytes() == b"ID3 falling chime"
    assert receipt.details == {"files": 4, "duration_s": 95.8}
    sidecar = json.loads((slot / "0630.json").read_text(encoding="utf-8"))
    assert [item["kind"] for item in sidecar["items"]] == ["intro", "piece", "piece", "outro"]


def test_a_damaged_jingle_is_refused_like_a_damaged_clip(tmp_path: Path, clips) -> None:
    intro = make_clip(tmp_path / "src", "intro", "Nhạc hiệu mở đầu", 2.5, b"ID3 rising chime")
    intro.path.write_bytes(b"another file")

    with pytest.raises(PermanentError, match="Nhạc hiệu mở đầu"):
        adapter(tmp_path).deliver(replace(make_delivery("d-1", clips), intro=intro))
    assert not list(tmp_path.rglob("*.m3u8"))


def test_sidecar_tells_the_operator_what_is_in_the_playlist(tmp_path: Path, clips) -> None:
    adapter(tmp_path).deliver(make_delivery("d-1", clips))

    sidecar = json.loads((tmp_path / "out/xa-an-binh/2025-03-14/0630.json").read_text(encoding="utf-8"))
    assert sidecar["delivery_id"] == "d-1"
    assert sidecar["station"] == "xa-an-binh"
    assert sidecar["start_at"] == "2025-03-14T06:30:00+07:00"
    assert sidecar["end_at"] == "2025-03-14T07:00:00+07:00"
    assert [(i["title"], i["sha256"], i["duration_s"]) for i in sidecar["items"]] == [
        ("Thông báo lịch tiêm chủng", clips[0].sha256, 61.2),
        ("Tin thời tiết, mưa lớn", clips[1].sha256, 30.0),
    ]
    assert sidecar["items"][0]["file"] == f"0630-01-{clips[0].sha256[:12]}.mp3"


def test_folder_and_name_follow_the_local_time_of_start_at(tmp_path: Path, clips) -> None:
    just_after_midnight = datetime(2025, 3, 15, 0, 15, tzinfo=VN)  # still the 14th in UTC
    receipt = adapter(tmp_path).deliver(make_delivery("d-1", clips, start=just_after_midnight))

    assert receipt.location == str(tmp_path / "out/xa-an-binh/2025-03-15/0015.m3u8")


def test_redelivery_rewrites_the_same_files_and_nothing_more(tmp_path: Path, clips) -> None:
    channel = adapter(tmp_path)
    channel.deliver(make_delivery("d-1", clips))
    before = snapshot(tmp_path / "out")

    channel.deliver(make_delivery("d-1", clips))

    assert snapshot(tmp_path / "out") == before
    assert not [p for p in (tmp_path / "out").rglob(".*") if p.name != ".lock"]  # no temp files left


def test_another_delivery_for_the_same_slot_replaces_the_first(tmp_path: Path, clips) -> None:
    channel = adapter(tmp_path)
    channel.deliver(make_delivery("d-1", clips))
    urgent = make_clip(tmp_path / "src", "khan-cap", "Thông báo khẩn cấp", 12.5, b"ID3 urgent")

    channel.deliver(make_delivery("d-2", (urgent,)))

    slot = tmp_path / "out/xa-an-binh/2025-03-14"
    clip_name = f"0630-01-{urgent.sha256[:12]}.mp3"
    assert sorted(p.name for p in slot.iterdir()) == sorted([clip_name, "0630.json", "0630.m3u8"])
    assert (slot / "0630.m3u8").read_text() == f"#EXTM3U\n#EXTINF:13,Thông báo khẩn cấp\n{clip_name}\n"
    assert json.loads((slot / "0630.json").read_text())["delivery_id"] == "d-2"


def test_clip_with_wrong_hash_is_refused_and_no_playlist_appears(tmp_path: Path, clips) -> None:
    tampered = clips[1].path
    tampered.write_bytes(b"not the approved recording")

    with pytest.raises(PermanentError, match="thoi-tiet") as refused:
        adapter(tmp_path).deliver(make_delivery("d-1", clips))

    assert "Tin thời tiết, mưa lớn" in str(refused.value)
    assert not list(tmp_path.rglob("*.m3u8"))
    assert not list(tmp_path.rglob("0630-*.mp3"))  # nothing half-delivered either


def test_missing_clip_file_is_refused_naming_it(tmp_path: Path, clips) -> None:
    clips[0].path.unlink()

    with pytest.raises(PermanentError, match=r"tiem-chung.*file missing"):
        adapter(tmp_path).deliver(make_delivery("d-1", clips))


def test_full_disk_is_transient_and_forbidden_dir_permanent(tmp_path: Path, clips, monkeypatch) -> None:
    def disk_full(src: Path, dst: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def forbidden(src: Path, dst: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(folder_module, "copy_atomic", disk_full)
    with pytest.raises(TransientError, match="No space left"):
        adapter(tmp_path).deliver(make_delivery("d-1", clips))

    monkeypatch.setattr(folder_module, "copy_atomic", forbidden)
    with pytest.raises(PermanentError, match="Permission denied"):
        adapter(tmp_path).deliver(make_delivery("d-1", clips))


def test_unsafe_station_code_is_refused(tmp_path: Path, clips) -> None:
    delivery = make_delivery("d-1", clips)
    bad = Delivery(**{**delivery.__dict__, "station_code": "../etc"})

    with pytest.raises(PermanentError, match="not a safe file name"):
        adapter(tmp_path).deliver(bad)


def test_registry_opens_the_adapter_and_refuses_unknown_settings(tmp_path: Path) -> None:
    channel = open_channel("loudspeaker.folder", {"type": "folder", "dir": str(tmp_path)})
    assert isinstance(channel, FolderLoudspeaker)
    assert channel.options.dir == tmp_path

    with pytest.raises(ValidationError):
        open_channel("loudspeaker.folder", {"type": "folder", "dir": str(tmp_path), "dri": "typo"})


def emergency(delivery_id: str, moment: datetime, *, audio: AudioClip | None = None, stream_url: str | None = None,
              all_clear: bool = False, ref: str = "khan-1", repeat: int = 0) -> Delivery:
    from channels import Alert

    return Delivery(id=delivery_id, station_code="xa-an-binh", station_name="Xã An Bình", outlet="loa",
                    start_at=moment, end_at=moment + timedelta(hours=3), level="emergency",
                    alert=Alert(ref=ref, title="Cảnh báo lũ\nquét", text="Bà con vùng trũng sơ tán ngay.",
                                issued_at=moment, all_clear=all_clear, audio=audio, stream_url=stream_url,
                                repeat=repeat))


def test_an_emergency_is_written_beside_the_days_playlists_and_takes_over_the_slot_playing(tmp_path, clips) -> None:
    out = adapter(tmp_path)
    out.deliver(make_delivery("sang", clips))  # 06:30, 91.2 s
    out.deliver(make_delivery("chieu", clips, start=START.replace(hour=17)))
    day = tmp_path / "out" / "xa-an-binh" / "2025-03-14"
    program = (day / "0630.m3u8").read_text()
    alarm = make_clip(tmp_path / "src", "khan", "Cảnh báo lũ", 42.5, b"ID3 emergency")

    receipt = out.deliver(emergency("khan-1", START + timedelta(seconds=40), audio=alarm))

    expected = "#EXTM3U\n#EXTINF:43,KHẨN CẤP: Cảnh báo lũ quét\nemergency-" + alarm.sha256[:12] + ".mp3\n"
    assert (day / "emergency.m3u8").read_text() == expected
    assert (day / f"emergency-{alarm.sha256[:12]}.mp3").read_bytes() == b"ID3 emergency"
    assert (day / "0630.m3u8").read_text() == expected  # the slot playing now plays the emergency
    assert (day / "0630.m3u8.interrupted").read_text() == program  # its program kept for the record only
    assert (day / "1730.m3u8").read_text() == program.replace("0630", "1730")  # later slots untouched
    assert receipt.location == str(day / "emergency.m3u8")
    assert receipt.details["replaced"] == "0630.m3u8"
    assert receipt.details["interrupted"] == {"delivery": "sang", "played_s": 40.0, "program_s": 91.2,
                                             "played": [], "remaining": ["tiem-chung", "thoi-tiet"]}
    sidecar = json.loads((day / "emergency.json").read_text())
    assert sidecar["ref"] == "khan-1" and sidecar["replaced"] == "0630.m3u8" and sidecar["until"] is None

    again = out.deliver(emergency("khan-1-lap-1", START + timedelta(minutes=15), audio=alarm, repeat=1))
    assert again.details["replaced"] == "0630.m3u8" and again.details["interrupted"] is None
    assert (day / "0630.m3u8.interrupted").read_text() == program

    cleared = out.deliver(emergency("khan-1-het", START + timedelta(minutes=20), all_clear=True))
    assert not (day / "emergency.m3u8").exists() and not (day / "emergency.json").exists()
    assert not list(day.glob("emergency-*.mp3"))
    assert (day / "0630.m3u8").read_text() == "#EXTM3U\n"  # the cut program is not resumed
    assert cleared.details["cleared"] == ["2025-03-14"] and cleared.details["slots"] == ["2025-03-14/0630.m3u8"]
    assert (day / "1730.m3u8").read_text() == program.replace("0630", "1730")


def test_a_live_stream_emergency_outside_any_slot_and_an_all_clear_with_its_announcement(tmp_path, clips) -> None:
    out = adapter(tmp_path)
    out.deliver(make_delivery("sang", clips))
    day = tmp_path / "out" / "xa-an-binh" / "2025-03-14"

    receipt = out.deliver(emergency("khan-2", START.replace(hour=12), stream_url="http://dai-tinh.example/truc-tiep",
                                  ref="khan-2"))

    assert (day / "emergency.m3u8").read_text() == (
        "#EXTM3U\n#EXTINF:-1,KHẨN CẤP: Cảnh báo lũ quét\nhttp://dai-tinh.example/truc-tiep\n")
    assert receipt.details["replaced"] is None  # nothing was playing at noon
    other = out.deliver(emergency("khac-het", START.replace(hour=12, minute=5), all_clear=True, ref="khac"))
    assert other.details["cleared"] == [] and (day / "emergency.m3u8").exists()  # another emergency's all-clear

    said = make_clip(tmp_path / "src", "het", "Hết cảnh báo", 8.0, b"ID3 all clear")
    out.deliver(emergency("khan-2-het", START.replace(hour=12, minute=30), all_clear=True, ref="khan-2", audio=said))
    assert not (day / "emergency.m3u8").exists()


def test_an_emergency_without_audio_or_stream_is_refused(tmp_path) -> None:
    with pytest.raises(PermanentError, match="neither audio nor a stream"):
        adapter(tmp_path).deliver(emergency("khan-3", START))
