"""Helpers shared by the end-to-end tests: simulated local times, accounts, pieces, and what landed on disk.

Not a test module (no ``test_`` prefix); the e2e tests import it by name.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

#: The configured zone of the shipped demo config (``[time] zone``), as in tests/conftest.py.
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: The Monday of tests/conftest.py (2026-11-23): no yearly campaign runs that week; guong-dien-hinh does.
DAY = datetime(2026, 11, 23, tzinfo=ZONE).date()

EDITOR, APPROVER, APPROVER2 = "bien-tap-lan", "duyet-hung", "duyet-mai"
#: The titles of the demo jingles in a loudspeaker playlist, which open and close every program.
INTRO, OUTRO = "Nhạc hiệu mở đầu", "Nhạc hiệu kết thúc"
STATIONS = ("99001", "99002", "99003")


def at(hhmm: str, day: int = 23) -> str:
    """``--now`` text for a local wall-clock time in November 2026, e.g. ``at("05:58:30")``."""
    parts = [int(p) for p in hhmm.split(":")]
    moment = datetime.combine(DAY.replace(day=day), time(*parts), tzinfo=ZONE)
    return moment.isoformat()


def moment(hhmm: str, day: int = 23) -> datetime:
    return datetime.fromisoformat(at(hhmm, day))


def out_dir(config_dir: Path) -> Path:
    """Where the demo stations.toml sends everything: ``var/out`` beside the config folder."""
    return config_dir.parent / "var" / "out"


def playlist(config_dir: Path, station: str, hhmm: str, day: int = 23) -> Path:
    return out_dir(config_dir) / "loudspeaker" / station / f"2026-11-{day:02d}" / f"{hhmm}.m3u8"


def setup_accounts(cli: Any, now: str) -> None:
    """``loa init`` and one editor plus two approvers, as a centre would start."""
    cli("init", now=now)
    cli("user", "add", EDITOR, "--role", "editor", now=now)
    cli("user", "add", APPROVER, "--role", "approver", now=now)
    cli("user", "add", APPROVER2, "--role", "approver", now=now)


def add_piece(cli: Any, title: str, body: str, now: str, *extra: str) -> int:
    """``loa piece add`` as the editor; returns the printed id."""
    result = cli("piece", "add", "--title", title, "--body", body, *extra, now=now, user=EDITOR)
    return int(result.stdout.strip())


def approved_piece(cli: Any, title: str, body: str, now: str, *extra: str) -> int:
    """A piece taken through add → submit → approve by the CLI."""
    piece = add_piece(cli, title, body, now, *extra)
    cli("piece", "submit", str(piece), now=now, user=EDITOR)
    cli("piece", "approve", str(piece), now=now, user=APPROVER)
    return piece


def schedule(cli: Any, now: str, *extra: str) -> list[dict[str, Any]]:
    return cli.json("schedule", *extra, now=now)


def programs(rows: list[dict[str, Any]], outlet: str, local_hhmm: str | None = None) -> list[dict[str, Any]]:
    """Programs of one outlet (optionally starting at a local HH:MM), from ``loa schedule --json``."""
    found = []
    for row in rows:
        start = datetime.fromisoformat(row["start_at"]).astimezone(ZONE)
        if row["outlet"] == outlet and (local_hhmm is None or start.strftime("%H:%M") == local_hhmm):
            found.append(row)
    return found


def titles(program: dict[str, Any]) -> list[str]:
    return [item["title"] for item in program["items"]]


_EXTINF = re.compile(r"^#EXTINF:(\d+(?:\.\d+)?),(.*)$")


def read_playlist(path: Path) -> list[tuple[float, str, Path]]:
    """``[(seconds, title, mp3 path)]`` of an extended M3U; asserts its shape on the way."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0] == "#EXTM3U", f"{path} does not start with #EXTM3U: {lines[:1]}"
    entries = []
    index = 1
    while index < len(lines):
        match = _EXTINF.match(lines[index])
        assert match, f"{path}: expected #EXTINF at line {index + 1}, got {lines[index]!r}"
        file = lines[index + 1]
        assert not Path(file).is_absolute(), f"{path}: media path {file!r} is not relative"
        entries.append((float(match.group(1)), match.group(2), path.parent / file))
        index += 2
    return entries


def everything_published(config_dir: Path) -> str:
    """All text loa wrote for the outlets: playlists and sidecars, board documents, feeds."""
    root = out_dir(config_dir)
    if not root.exists():
        return ""
    texts = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in {".m3u8", ".json", ".xml"}:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":  # whatever escaping the writer chose, search the decoded text
            text = json.dumps(json.loads(text), ensure_ascii=False)
        texts.append(text)
    return "\n".join(texts)
