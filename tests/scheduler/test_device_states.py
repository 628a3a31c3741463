"""A device's state follows from its silence and its fault alone: online while it keeps its beat, late then offline
as the silence grows (never back without a word), faulty while a fresh word names a fault; a clock skew beyond the
limit is flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.devices.states import DeviceState, clock_skewed, device_state, unreachable

SEEN = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
RANK = {DeviceState.ONLINE: 0, DeviceState.FAULTY: 0, DeviceState.LATE: 1, DeviceState.OFFLINE: 2}
thresholds = st.tuples(st.floats(1, 3600), st.floats(0, 3600), st.floats(0.1, 7200)).map(
    lambda t: (t[0], t[1], t[1] + t[2]))  # interval, late after, offline after (always later than late)
silences = st.floats(0, 30 * 24 * 3600)
faults = st.one_of(st.none(), st.text(min_size=1, max_size=20))


def _state(silence_s: float, fault: str | None, limits: tuple[float, float, float]) -> DeviceState:
    interval, late, offline = limits
    return device_state(SEEN, fault, SEEN + timedelta(seconds=silence_s), interval_s=interval, late_after_s=late,
                        offline_after_s=offline)


@given(limits=thresholds, first=silences, more=silences, fault=faults)
def test_a_growing_silence_never_makes_a_device_look_better(limits, first, more, fault):
    assert RANK[_state(first, fault, limits)] <= RANK[_state(first + more, fault, limits)]


@given(limits=thresholds, silence=silences, fault=faults)
def test_the_state_is_set_by_how_long_past_its_due_beat_the_device_is(limits, silence, fault):
    interval, late, offline = limits
    silence = timedelta(seconds=silence).total_seconds()  # times are datetimes: a silence is whole microseconds
    overdue = silence - interval
    state = _state(silence, fault, limits)
    if overdue > offline:
        assert state is DeviceState.OFFLINE
    elif overdue > late:
        assert state is DeviceState.LATE
    else:
        assert state is (DeviceState.FAULTY if fault else DeviceState.ONLINE)


@given(limits=thresholds, fault=faults)
def test_a_device_never_heard_from_is_unknown_whatever_else(limits, fault):
    interval, late, offline = limits
    assert device_state(None, fault, SEEN, interval_s=interval, late_after_s=late,
                        offline_after_s=offline) is DeviceState.UNKNOWN


@given(offset=st.floats(-1e6, 1e6), limit=st.floats(0.01, 1e5))
def test_a_clock_is_flagged_exactly_when_it_is_further_off_than_the_limit(offset, limit):
    assert clock_skewed({"clock_offset_s": offset}, limit) is (abs(offset) > limit)
    assert not clock_skewed({}, limit)


def test_an_unanswered_probe_counts_as_unreachable_but_a_device_naming_its_own_fault_does_not():
    assert unreachable(DeviceState.OFFLINE, "http")
    assert unreachable(DeviceState.FAULTY, "probe")
    assert not unreachable(DeviceState.FAULTY, "http")
    assert not unreachable(DeviceState.LATE, "probe")
    assert not unreachable(DeviceState.UNKNOWN, None)
