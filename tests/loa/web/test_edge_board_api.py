"""The edge API serves a board edge its outlet's rotations: slides as the http board has them, each slide image as a
sealed item whose file hashes to its SHA-256, and a rotation whose stored payload was altered is withheld."""

from __future__ import annotations

import copy
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import update
from test_edge_api import _signed
from test_feed_images import _jpeg

from content.db import unit_of_work
from content.models import User
from content.pieces import approve, submit
from loa.edge import protocol
from scheduler.devices import edges
from scheduler.models import Delivery

from servers.web import csrf_of

TITLE = "Ngày hội đọc sách của xã"


@pytest.fixture
def board_edges(config_dir):
    """Every demo board served by edge devices, rotations published two days ahead."""
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    lines = [('board = { type = "edge", lead = "48h" }' if line.startswith("board = ") else line)
             for line in text.splitlines()]
    stations.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_board_device_gets_sealed_rotations_with_their_images_and_an_altered_one_is_withheld(board_edges, web):
    services = web.services
    piece = web.piece(TITLE)
    lan = web.client("lan")
    answer = lan.post(f"/pieces/{piece}/upload", data={"csrf": csrf_of(lan.get(f"/pieces/{piece}").text),
                                                      "kind": "image"},
                      files={"file": ("anh.jpg", _jpeg(800, 600), "image/jpeg")})
    assert answer.status_code == 303, answer.text
    with unit_of_work(services.sessions) as session:
        submit(session, piece, actor=session.get(User, web.ids["lan"]), now=services.now())
        approve(session, piece, actor=session.get(User, web.ids["hung"]), now=services.now())
    services.plan(days=1)
    dispatcher = services.dispatcher()
    try:
        dispatcher.run_once(services.now(), due_by=services.now() + timedelta(days=2))
    finally:
        dispatcher.close()
    with unit_of_work(services.sessions) as session:
        code = edges.make_enrolment_code(session, station="99001", outlet="board", actor="quan-tri",
                                         now=services.now())[1]
    client = web.client()
    device = client.post("/api/edge/enrol", json={"code": code, "name": "man-hinh"}).json()
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    listed = client.get("/api/edge/schedule?days=2", headers=headers).json()
    assert not listed["programs"] and not listed["withheld"]
    rotation = next(r for r in listed["rotations"] if any(s["title"] == TITLE for s in r["slides"]))
    slide = next(s for s in rotation["slides"] if s["image_sha256"])
    assert slide["text"] and slide["seconds"] > 0
    image = next(i for i in rotation["items"] if i["sha256"] == slide["image_sha256"])
    assert protocol.item_seal_valid(device["key"], rotation["delivery_id"], image["item"], image["sha256"],
                                    image["seal"])
    headers, _ = _signed(web, device, "GET", image["url"])
    fetched = client.get(image["url"], headers=headers)
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("image/")
    assert hashlib.sha256(fetched.content).hexdigest() == slide["image_sha256"]

    with unit_of_work(services.sessions) as session:  # someone edits the stored slide text behind loa's back
        row = session.get(Delivery, rotation["delivery_id"])
        payload = copy.deepcopy(row.payload)
        payload["delivery"]["slides"][0]["text"] = "Tin giả"
        session.execute(update(Delivery).where(Delivery.id == row.id).values(payload=payload))
    services.clock.offset += timedelta(minutes=1)
    headers, _ = _signed(web, device, "GET", "/api/edge/schedule?days=2")
    after = client.get("/api/edge/schedule?days=2", headers=headers).json()
    assert rotation["delivery_id"] not in [r["delivery_id"] for r in after["rotations"]]
    assert "does not match its seal" in {w["delivery_id"]: w["reason"] for w in after["withheld"]}[
        rotation["delivery_id"]]
