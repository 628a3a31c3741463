"""What a device's silence and faults make it: online, late, offline, faulty, or never heard from (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from scheduler.devices.settings import DevicesSettings


class DeviceState(StrEnum):
    """The state the devices page shows; ``unknown``: nothing was ever heard from the device."""

    ONLINE = "online"
    LATE = "late"
    OFFLINE = "offline"
    FAULTY = "faulty"
    UNKNOWN = "unknown"


def device_state(last_seen_at: datetime | None, fault: str | None, now: datetime, *, interval_s: float,
                 late_after_s: float, offline_after_s: float) -> DeviceState:
    """The state at ``now`` of a device last heard from at ``last_seen_at``, expected every ``interval_s``.

    Its next word was due at ``last_seen_at + interval_s``: more than ``offline_after_s`` past that it is
    offline, more than ``late_after_s`` past it late; otherwise faulty when its last word named a fault, else
    online. Silence outranks a fault: an old fault says nothing about a device that stopped speaking.
    """
    if last_seen_at is None:
        return DeviceState.UNKNOWN
    overdue_s = (now - last_seen_at).total_seconds() - interval_s
    if overdue_s > offline_after_s:
        return DeviceState.OFFLINE
    if overdue_s > late_after_s:
        return DeviceState.LATE
    return DeviceState.FAULTY if fault else DeviceState.ONLINE


def interval_of(source: str | None, settings: DevicesSettings) -> float:
    """How often a device is expected to be heard from: each probe, or each heartbeat."""
    return settings.probe_s if source == "probe" else settings.beat_s


def state_of(last_seen_at: datetime | None, source: str | None, fault: str | None, now: datetime,
             settings: DevicesSettings) -> DeviceState:
    """:func:`device_state` with the thresholds of ``[devices]``."""
    return device_state(last_seen_at, fault, now, interval_s=interval_of(source, settings),
                        late_after_s=settings.late_after_s, offline_after_s=settings.offline_after_s)


def clock_offset(beat: Mapping[str, Any]) -> float | None:
    """The device clock minus loa's, in seconds, when its last beat said."""
    offset = beat.get("clock_offset_s")
    return float(offset) if isinstance(offset, int | float) and not isinstance(offset, bool) else None


def clock_skewed(beat: Mapping[str, Any], max_skew_s: float) -> bool:
    """Whether the device's clock is further than ``max_skew_s`` from loa's (it would play at the wrong time)."""
    offset = clock_offset(beat)
    return offset is not None and abs(offset) > max_skew_s


def unreachable(state: DeviceState, source: str | None) -> bool:
    """Whether the device cannot be counted on for its next slot: silent for too long, or its probe unanswered."""
    return state is DeviceState.OFFLINE or (state is DeviceState.FAULTY and source == "probe")
