"""The pusher and its circuit breakers: nothing waits for a probe it did not start (a half-open circuit whose
probe another push holds defers the outlet's jobs instead of spinning until that push ends)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import channels
from scheduler.dispatch.breaker import CircuitBreaker
from scheduler.dispatch.pushing import Job, Pusher

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class Counting(channels.Channel):
    """An adapter that accepts every push and counts them."""

    kind = "test.counting"

    def __init__(self) -> None:
        self.pushed: list[str] = []

    def deliver(self, delivery: channels.Delivery) -> channels.Receipt:
        self.pushed.append(delivery.id)
        return channels.Receipt(delivery.id, "test://")


def _jobs(channel: Counting, n: int) -> list[Job]:
    return [Job(f"d{i}", "loudspeaker.test:a", channel, channels.Delivery(
        id=f"d{i}", station_code="99001", station_name="Xã", outlet="loudspeaker", start_at=NOW,
        end_at=NOW + timedelta(hours=1))) for i in range(n)]


def _half_open_held() -> CircuitBreaker:
    breaker = CircuitBreaker(3, timedelta(minutes=5))
    for _ in range(3):
        breaker.record(False, NOW - timedelta(hours=1))
    assert breaker.allows(NOW)  # another push took the half-open probe and is still under way
    return breaker


def _push(pusher: Pusher, jobs: list[Job]) -> list:
    result: list = []
    runner = threading.Thread(target=lambda: result.extend(pusher.push_all(jobs, NOW)), daemon=True)
    runner.start()
    runner.join(5)
    stuck = runner.is_alive()
    pusher.breaker("loudspeaker.test:a").record(True, NOW)  # that other push ends; a spinning pusher goes on
    runner.join(5)
    pusher.close()
    assert not stuck, "push_all waited for a probe it did not start"
    return result


def test_the_planned_lane_defers_an_outlet_whose_half_open_probe_another_push_holds():
    breaker, channel = _half_open_held(), Counting()
    outcomes = _push(Pusher(workers=4, per_outlet=2, breaker=lambda key: breaker), _jobs(channel, 3))
    assert channel.pushed == [] and {o.deferred_until for o in outcomes} == {NOW + timedelta(minutes=5)}


def test_the_emergency_lane_probes_it_itself_and_the_rest_follow():
    breaker, channel = _half_open_held(), Counting()
    outcomes = _push(Pusher(workers=4, per_outlet=2, breaker=lambda key: breaker, probe=True), _jobs(channel, 3))
    assert sorted(channel.pushed) == ["d0", "d1", "d2"] and all(o.receipt is not None for o in outcomes)
