"""Board rotations written as the dispatcher writes them: through the kiosk channel's own ``deliver``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from channels import Alert, Delivery, Slide
from channels.registry import open_channel


def slides(count: int, *, seconds: int = 1, changed: dict[int, str] | None = None,
           images: dict[int, Path] | None = None) -> list[Slide]:
    """``count`` slides "Tin số n" with refs as the dispatcher makes them (``piece-<n>-r<revision>-1``);
    slide n in ``changed`` has that text and revision 2, as a corrected piece would."""
    changed, images = changed or {}, images or {}
    return [Slide(f"piece-{n}-r{2 if n in changed else 1}-1",
                  changed.get(n, f"Nội dung bản tin số {n} gửi bà con trong xã."), seconds,
                  title=f"Tin số {n}", campaign="Gương điển hình", image_path=images.get(n))
            for n in range(1, count + 1)]


def deliver(settings, delivery_id: str, shown: list[Slide], now: datetime, station: str = "99001") -> None:
    """Push ``shown`` as the rotation of ``now``'s whole day on the station's kiosk board."""
    spec = settings.station(station)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    open_channel("board.kiosk", spec.board).deliver(Delivery(
        id=delivery_id, station_code=spec.code, station_name=spec.name, outlet="board",
        start_at=start, end_at=start + timedelta(days=1), slides=tuple(shown)))


def alert(settings, delivery_id: str, now: datetime, *, ref: str = "khan-1", all_clear: bool = False,
          until: datetime | None = None, station: str = "99001") -> None:
    """Push an emergency (or its all-clear) to the station's kiosk board, as the emergency fan-out does."""
    spec = settings.station(station)
    open_channel("board.kiosk", spec.board).deliver(Delivery(
        id=delivery_id, station_code=spec.code, station_name=spec.name, outlet="board", start_at=now,
        end_at=until or now + timedelta(hours=6), level="emergency",
        alert=Alert(ref=ref, title="Cảnh báo lũ quét", text="Nước sông Chảy lên nhanh, bà con vùng trũng sơ tán ngay.",
                    issued_at=now, until=until, all_clear=all_clear)))
