"""Crash safety (SPEC §9): SIGKILL `loa dispatch` at random points of a run, again and again, then let it finish.

Every delivery arrives; every repeat carries the same idempotency key and the same body; nothing is lost.
Facebook Pages (the Graph API stand-in) and a Zalo Official Account (the OA Open API stand-in, on station 99004)
are in the mix: neither takes an idempotency key, so a post or article made by a run killed before it could
record it must be found again by its marker, never posted twice (every Zalo article has the same title: only the
marker in its body tells them apart).
The receiver runs in the test process; each `loa dispatch` is a real process on one SQLite file, forked by
tests/servers/forker.py from a process that has imported loa already (a fresh interpreter would spend
seconds importing on a busy machine). The killed runs' claims come back after ``lease_minutes``, so each
restart runs ``--now`` two minutes later.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta

from channels.social.common import MARKER
from content.db import unit_of_work
from scheduler.models import Delivery

from conftest import MONDAY, ROOT
from servers import processes
from servers.outbox_world import (
    FACEBOOK_TOKEN_ENV,
    SECRET_ENV,
    ZALO_REFRESH_ENV,
    ZALO_SECRET_ENV,
    add_deliveries,
    approved_revision,
    open_http_services,
    write_config,
)
from servers.receiver import SECRET, Answer, Request
from servers.social import start

STATIONS = ("99001", "99002", "99003", "99004")
ZALO_STATION = "99004"
PER_STATION = 100
SOCIAL_PER_STATION = 15
FORKER = ROOT / "tests" / "servers" / "forker.py"
KILLS = 20


def test_sigkill_at_random_points_loses_nothing_and_never_changes_key_or_body(config_dir, receiver, request):
    rng = random.Random(20261123)
    running = start("facebook")
    facebook = next(running)
    request.addfinalizer(running.close)
    facebook.delay_s = 0.01
    running_zalo = start("zalo")
    zalo = next(running_zalo)
    request.addfinalizer(running_zalo.close)
    zalo.delay_s = 0.01
    token_file = config_dir.parent / "zalo.json"  # the OA's current pair: the run is about articles, not refreshes
    token_file.write_text(json.dumps({"access_token": zalo.token, "refresh_token": zalo.refresh_token}))
    write_config(config_dir, dict.fromkeys(STATIONS, receiver.url), facebook=facebook.url,
                 zalo=(ZALO_STATION, zalo.url, token_file), dispatch={
        "lease_minutes": 1, "max_attempts": 100, "retry_base_s": 1, "retry_max_s": 60, "claim_batch": 20, "workers": 4,
        "per_outlet": 2, "breaker_failures": 1000})
    services = open_http_services(config_dir, MONDAY)
    revision = approved_revision(services, MONDAY)
    ids: set[str] = set()
    social: set[str] = set()
    on_zalo: set[str] = set()
    for station in STATIONS:
        starts = [MONDAY - timedelta(hours=1) + timedelta(minutes=i) for i in range(PER_STATION)]
        ids.update(add_deliveries(services, revision, station=station, outlet="board", starts=starts,
                                  length=timedelta(hours=24), now=MONDAY))
        made = add_deliveries(services, revision, station=station, outlet="social", starts=starts[:SOCIAL_PER_STATION],
                              length=timedelta(hours=1), now=MONDAY)
        social.update(made)
        on_zalo.update(made if station == ZALO_STATION else ())
    services.close()

    answered: dict[str, list[tuple[int, bytes, bool]]] = defaultdict(list)
    lock = threading.Lock()
    flaky = random.Random(7)

    def respond(request: Request) -> Answer:
        status = 503 if flaky.random() < 0.1 else 200
        with lock:
            both_ways = request.signed and request.standard and request.headers.get("webhook-id") == request.key
            answered[request.key].append((status, request.body, both_ways))
        return Answer(status, delay_s=0.005)

    receiver.respond = respond
    env = {**os.environ, SECRET_ENV: SECRET, FACEBOOK_TOKEN_ENV: facebook.token, ZALO_SECRET_ENV: zalo.app_secret,
           ZALO_REFRESH_ENV: zalo.refresh_token, "LOA_DATABASE_URL": "",
           "LOA_USER": "", "LOA_NOW": ""}

    log = (config_dir.parent / "dispatch.log").open("w+b")
    forker = processes.start([sys.executable, str(FORKER)], env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
    request.addfinalizer(lambda: processes.stop(forker))  # the forker and any child still running, on failure too

    def ask(line: str) -> int:
        forker.stdin.write(line + "\n")
        forker.stdin.flush()
        return int(forker.stdout.readline())

    class Child:
        """One `loa dispatch` process."""

        def __init__(self, now) -> None:
            self.pid = ask(f"run --config {config_dir} --now {now.isoformat()} dispatch")
            self.code: int | None = None

        def alive(self) -> bool:
            try:
                with open(f"/proc/{self.pid}/stat") as stat:
                    return stat.read().split(") ")[1][0] != "Z"  # a zombie has finished
            except FileNotFoundError:
                return False

        def kill(self) -> int:
            os.kill(self.pid, signal.SIGKILL)
            return self.wait()

        def wait(self) -> int:
            self.code = ask(f"wait {self.pid}")
            return self.code

    def pushes() -> int:
        return len(receiver.requests) + facebook.creates() + zalo.creates()

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")[-3000:]

    now, kills, mid_push, began = MONDAY, 0, 0, time.monotonic()
    for _round in range(3 * KILLS):
        if kills >= KILLS:
            break
        now += timedelta(minutes=2)
        before = pushes()
        process = Child(now)
        if rng.random() < 0.25:  # anywhere: while starting, claiming, preparing or pushing
            deadline = time.monotonic() + rng.uniform(0.01, 1.0)
            while process.alive() and time.monotonic() < deadline:
                time.sleep(0.002)
        else:  # after a random number of pushes have reached the receiver or the Page
            target = before + rng.randint(1, 25)
            deadline = time.monotonic() + 30
            while pushes() < target and process.alive() and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.02))
        if process.alive():
            assert process.kill() == -signal.SIGKILL
            kills += 1
            mid_push += pushes() > before
        else:
            assert process.wait() in (0, 7), output()
    assert kills >= KILLS and mid_push >= KILLS // 2, (kills, mid_push)

    def unfinished() -> int:
        with sqlite3.connect(config_dir.parent / "var" / "loa.db") as db:
            return db.execute("SELECT count(*) FROM deliveries WHERE state != 'delivered'").fetchone()[0]

    for _ in range(10):  # let it finish: no more kills; retries of the 503s become due an hour later
        now += timedelta(hours=1)
        assert Child(now).wait() == 0, output()
        if not unfinished():
            break

    forker.stdin.close()
    forker.wait(timeout=30)
    services = open_http_services(config_dir, now)
    with unit_of_work(services.sessions) as session:
        states = dict(session.query(Delivery.id, Delivery.state).all())
        receipts = dict(session.query(Delivery.id, Delivery.receipt).where(Delivery.outlet == "social").all())
    services.close()
    assert set(states) == ids | social
    assert {state for state in states.values()} == {"delivered"}
    # one post per social delivery, however often it was killed: each post's marker names its delivery
    posted = [MARKER.search(post["message"])[0] for post in facebook.posts.values()]
    on_facebook = social - on_zalo
    assert len(posted) == len(set(posted)) == len(on_facebook), (len(posted), len(set(posted)), len(on_facebook))
    assert {receipts[key]["remote_id"] for key in on_facebook} == set(facebook.posts)
    articles = [MARKER.search(article["body"][-1]["content"])[0] for article in zalo.posts.values()]
    assert len(articles) == len(set(articles)) == len(on_zalo), (len(articles), len(set(articles)), len(on_zalo))
    assert {receipts[key]["remote_id"] for key in on_zalo} == set(zalo.posts)
    found_again = sum(post["found"] for receipt in receipts.values() for post in receipt["details"]["posts"])
    assert found_again, "no run was killed between making a post and recording it: the case this mix is for"
    assert set(answered) == ids  # every delivery reached the receiver...
    for key, answers in answered.items():
        assert any(status == 200 for status, _, _ in answers), key  # ...and was accepted at least once
        assert len({body for _, body, _ in answers}) == 1, f"{key} was sent with different bodies"
        assert all(signed for _, _, signed in answers), f"{key}: an attempt not signed both ways under its id"
    repeats = sum(len(answers) - 1 for answers in answered.values())
    print(f"{time.monotonic() - began:.1f} s: {kills} kills ({mid_push} while pushing), "
          f"{len(ids)} deliveries, {repeats} repeated posts; {len(on_facebook)} Facebook posts and {len(on_zalo)} Zalo "
          f"articles, {found_again} of them made by a killed run and found again by their marker, "
          f"{facebook.creates()} + {zalo.creates()} created in all")
