"""Demo stations whose loudspeakers are ``http`` devices that post heartbeats, and a device that signs its beats."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from channels.signing import sign

SECRET_ENV = "LOA_TEST_SPEAKER_SECRET"
SECRET = "bí-mật-của-loa-xã"


def with_http_speakers(config_dir: Path, *, devices: str = "") -> None:
    """Every demo station's loudspeaker becomes an ``http`` platform signing with ``SECRET``; ``devices`` (a
    ``[devices]`` section) replaces loa.toml's."""
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8").replace(
        'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }',
        f'loudspeaker = {{ type = "http", url = "http://127.0.0.1:9/push", secret_env = "{SECRET_ENV}" }}')
    stations.write_text(text, "utf-8")
    if devices:
        loa = config_dir / "loa.toml"
        shipped = loa.read_text("utf-8").split("\n[devices]\n")[0]  # the shipped section is the file's last
        loa.write_text(shipped + "\n" + devices, "utf-8")


def signed_beat(station: str, outlet: str = "loudspeaker", *, at: float, secret: str = SECRET,
                **fields: object) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a heartbeat as a device sends it, stamped ``at`` (unix seconds)."""
    body = json.dumps({"station": station, "outlet": outlet, **fields}).encode()
    return body, {"Content-Type": "application/json", **sign(body, secret, int(at))}


def advance(services, **delta: float) -> None:
    """Move loa's clock on (the fake clock every request and job reads)."""
    services.clock.offset += timedelta(**delta)


def beat(client, services, station: str = "99001", **fields: object):
    """Post a heartbeat of ``station``'s loudspeaker through ``client``, stamped with loa's clock."""
    body, headers = signed_beat(station, at=services.now().timestamp(), **fields)
    return client.post("/api/devices/heartbeat", content=body, headers=headers)
