"""The shipped config's commented social and print examples load as written, and once uncommented a campaign
piece is planned onto a commune's social network and its printed bulletin (campaigns.toml names both)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import ConfigError
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import add_user
from loa.settings import load_settings
from scheduler.models import Airing, Delivery, Station

from conftest import MONDAY
from servers.outbox_world import open_http_services
from servers.shipped_examples import uncomment_examples


def test_the_commented_social_and_print_examples_load(config_dir: Path) -> None:
    uncomment_examples(config_dir)
    settings = load_settings(config_dir, env={})  # no token in the environment: it is read at push time
    kinds = {s.code: (s.social.type, s.print.type if s.print else None) for s in settings.stations}
    assert kinds == {"99001": ("facebook", "pdf"), "99002": ("zalo", None), "99003": ("viber", None)}
    assert {slot.name: slot.outlet for slot in settings.slots if slot.outlet in ("social", "print")} == {
        "mang-xa-hoi": "social", "ban-tin-in": "print"}
    assert all({"social", "print"} <= set(c.outlets) for c in settings.campaigns)


def test_a_campaign_piece_reaches_the_social_network_and_the_printed_bulletin(config_dir: Path) -> None:
    uncomment_examples(config_dir)
    services = open_http_services(config_dir, MONDAY)
    try:
        with unit_of_work(services.sessions) as session:
            editor = add_user(session, "bien-tap", "editor", now=MONDAY)
            approver = add_user(session, "duyet", "approver", now=MONDAY)
            piece = add_piece(session, PieceContent("Gương sáng khuyến học ở xã", "Một gia đình hiếu học của xã.",
                                                    campaign="guong-dien-hinh"), author=editor, now=MONDAY)
            submit(session, piece.id, actor=editor, now=MONDAY)
            approve(session, piece.id, actor=approver, now=MONDAY)
            piece_id = piece.id
        services.plan(days=7)
        with services.sessions() as session:
            leads = {(code, outlet): start - due for code, outlet, start, due in session.execute(
                select(Station.code, Delivery.outlet, Delivery.start_at, Delivery.due_at)
                .join(Station, Station.id == Delivery.station_id).where(Delivery.outlet == "social"))}
            rows = session.execute(select(Station.code, Delivery.outlet)
                                   .join(Station, Station.id == Delivery.station_id)
                                   .join(Airing, Airing.delivery_id == Delivery.id)
                                   .where(Airing.piece_id == piece_id, Delivery.outlet.in_(("social", "print")))
                                   .distinct()).all()
    finally:
        services.close()
    assert set(rows) == {("99001", "social"), ("99002", "social"), ("99003", "social"), ("99001", "print")}
    # a Facebook post is pushed half an hour ahead and scheduled; a Zalo article and a Viber post at the slot's time
    assert leads == {("99001", "social"): timedelta(minutes=30), ("99002", "social"): timedelta(0),
                     ("99003", "social"): timedelta(0)}


def test_one_page_official_account_or_channel_on_two_stations_is_refused(config_dir: Path) -> None:
    uncomment_examples(config_dir)
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8")
    facebook, zalo, viber = (next(line for line in text.splitlines() if line.startswith(f'social = {{ type = "{kind}"'))
                             for kind in ("facebook", "zalo", "viber"))
    for key, old, new in (("page_id", viber, facebook),  # 99003 on 99001's Page
                          ("token_file", viber, zalo),  # 99003 on 99002's OA
                          ("token_env", facebook, viber)):  # 99001 on 99003's channel
        stations.write_text(text.replace(old, new, 1), "utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(config_dir, env={})
        message = str(caught.value)
        assert "stations.toml: station[" in message and f"].social.{key}: " in message, message
        assert "is station 99" in message and "belongs to one station" in message
    stations.write_text(text, "utf-8")
    load_settings(config_dir, env={})  # one each: loads


def test_the_readme_social_examples_load(config_dir: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [block.split("```")[0] for block in readme.split("```toml")[1:]]
    socials = [block for block in blocks if block.lstrip().startswith("[station.social]")]
    [slot] = [block for block in blocks if 'outlet = "social"' in block]
    assert len(socials) == 3
    kinds = []
    for block in socials:
        (config_dir / "stations.toml").write_text(f'[[station]]\ncode = "99001"\nname = "Xã Tân Lập"\n\n{block}',
                                                   "utf-8")
        (config_dir / "schedule.toml").write_text(slot, "utf-8")
        settings = load_settings(config_dir, env={})
        kinds.append(settings.stations[0].social.type)
        assert settings.slots[0].outlet == "social"
    assert kinds == ["facebook", "zalo", "viber"]
