"""The report's part per bulletin level (thông thường, ưu tiên, khẩn cấp): of the loudspeaker airings pushed to
``loa edge`` devices, how many each level's pieces aired whole, cut short or not at all, and the minutes played."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from channels import LEVELS
from scheduler.reports.aired import AIRED, NOT_AIRED, PARTIAL

SECTION_TITLE = "Theo mức độ"
HEADERS = ("Mức độ", "Đã đẩy tới thiết bị", "Đã phát trọn", "Phát dở", "Chưa phát", "Số phút đã phát")
LEVEL_NAMES = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}


@dataclass
class LevelLine:
    """Aired beside pushed for the pieces of one level."""

    level: str
    pushed: int = 0
    aired: int = 0
    aired_partial: int = 0
    not_aired: int = 0
    seconds_played: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "pushed": self.pushed, "aired": self.aired, "aired_partial": self.aired_partial,
                "not_aired": self.not_aired, "minutes_played": round(self.seconds_played / 60, 1)}


def by_level(outcomes: Iterable[tuple[str, str, float]]) -> list[LevelLine]:
    """``(level, outcome, seconds played)`` of each airing pushed to an edge device, as one line per level met,
    in the order of :data:`channels.LEVELS`."""
    lines: dict[str, LevelLine] = {}
    for level, outcome, seconds in outcomes:
        line = lines.setdefault(level, LevelLine(level))
        line.pushed += 1
        if outcome == AIRED:
            line.aired += 1
        elif outcome == PARTIAL:
            line.aired_partial += 1
        elif outcome == NOT_AIRED:
            line.not_aired += 1
        line.seconds_played += seconds
    known = [level for level in LEVELS if level in lines]
    return [lines[level] for level in (*known, *sorted(set(lines) - set(known)))]


def level_rows(lines: Iterable[LevelLine]) -> list[list[Any]]:
    """The lines as rows under :data:`HEADERS`."""
    return [[LEVEL_NAMES.get(line.level, line.level), line.pushed, line.aired, line.aired_partial, line.not_aired,
             round(line.seconds_played / 60, 1)] for line in lines]
