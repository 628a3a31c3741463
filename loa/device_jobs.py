"""The device jobs of the scheduler leader (probes, the alert review) and the sending of device alerts in Vietnamese
by a signed webhook and by e-mail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from channels.base import ChannelError
from content.db import session_factory, unit_of_work
from loa.settings import Settings
from loa.wiring import Services
from scheduler.devices.alerts import DeviceNotice, alerts_to_review, review_alerts
from scheduler.devices.probes import Prober

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)
#: The outlets as the alerts name them (the web app's catalog says the same).
OUTLET_WORDS = {"loudspeaker": "loa truyền thanh", "board": "bảng tin", "portal": "cổng thông tin",
                "social": "mạng xã hội", "print": "bản tin in"}


def _when(moment: datetime | None, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%d/%m/%Y %H:%M") if moment else "chưa từng"


def notice_words(notice: DeviceNotice, settings: Settings) -> tuple[str, str]:
    """The e-mail's subject and text (Vietnamese) for ``notice``."""
    outlet = OUTLET_WORDS.get(notice.outlet, notice.outlet)
    where = f"{notice.station_name} ({notice.station_code}) – {outlet}"
    if notice.kind == "back":
        return (f"[loa] Thiết bị đã liên lạc lại: {where}",
                f"Thiết bị {outlet} của {notice.station_name} đã liên lạc lại lúc "
                f"{_when(notice.last_seen_at, settings)}.\nCảnh báo trước đó đã được gỡ.\n")
    lines = [f"Thiết bị {outlet} của {notice.station_name} không liên lạc được, sắp tới giờ phát.",
             f"Liên lạc lần cuối: {_when(notice.last_seen_at, settings)}",
             f"Giờ phát kế tiếp: {_when(notice.next_slot_at, settings)}"]
    if notice.fault:
        lines.append(f"Lỗi: {notice.fault}")
    lines.append("Hãy kiểm tra nguồn điện, mạng và thiết bị trước giờ phát.")
    return f"[loa] Thiết bị mất liên lạc: {where}", "\n".join(lines) + "\n"


def send_notice(notice: DeviceNotice, settings: Settings) -> None:
    """Send ``notice`` by the webhook and the e-mail ``[devices]`` configures (each once); ChannelError if one fails."""
    from channels.http import HttpOutlet, json_body, secret_from_env, signing_secret
    from channels.print.mail import message, message_id, send

    devices = settings.loa.devices
    if devices.alert_webhook_url and devices.alert_secret_env:
        secret = signing_secret(devices.alert_secret_env, "device alert webhook", settings.env)
        outlet = HttpOutlet(timeout=(devices.timeout_s, devices.timeout_s), pool_size=1)
        try:
            outlet.request("POST", devices.alert_webhook_url, what=f"device alert {notice.id}",
                           body=json_body(notice.document()), delivery_id=notice.id, secret=secret)
        finally:
            outlet.close()
    if devices.alert_mail_to and devices.smtp_host:
        subject, text = notice_words(notice, settings)
        password = (secret_from_env(devices.smtp_password_env, f"SMTP {devices.smtp_host}", settings.env)
                    if devices.smtp_password_env else "")
        domain = devices.alert_mail_from.rpartition("@")[2] or "localhost"
        mail = message(sender=devices.alert_mail_from, to=", ".join(devices.alert_mail_to), subject=subject, body=text,
                       attachments=(), message_id=message_id(notice.id, domain))
        send(mail, host=devices.smtp_host, port=devices.smtp_port, starttls=devices.smtp_starttls,
             user=devices.smtp_user, password=password, timeout=devices.timeout_s)


def review_devices(services: Services, reads: sessionmaker[Session] | None = None) -> list[DeviceNotice]:
    """Raise and clear device alerts (audited, committed), then send each notice; a failed send is logged.

    Looked for first through ``reads`` (read-only sessions that never take the write lock, which heartbeats need),
    so the write transaction is opened only when an alert is raised or cleared."""
    settings, now = services.settings, services.now()
    with unit_of_work(reads or services.sessions) as session:
        if not alerts_to_review(session, settings.stations, settings.loa.devices, now):
            return []
    with unit_of_work(services.sessions) as session:
        notices = review_alerts(session, settings.stations, settings.loa.devices, now)
    for notice in notices:
        log.warning("device %s/%s: %s", notice.station_code, notice.outlet,
                    "back online" if notice.kind == "back" else "offline before its slot: alert raised")
        try:
            send_notice(notice, settings)
        except ChannelError as error:
            log.error("device alert %s could not be sent: %s", notice.id, error)
    return notices


def add_device_jobs(scheduler: BaseScheduler, services: Services, *, first_run: datetime | None = None) -> Prober:
    """The probes (every ``probe_s``, when an outlet needs them) and the alert review (every ``check_s``); the
    prober, to close when the process steps down."""
    from apscheduler.triggers.interval import IntervalTrigger

    devices = services.settings.loa.devices
    first = first_run or datetime.now(services.settings.zone)
    prober = Prober(services.settings.stations)
    if prober.targets:
        scheduler.add_job(prober.run, IntervalTrigger(seconds=devices.probe_s), args=(services.sessions, services.now),
                          id="device-probes", name="probe the devices that send no heartbeat", replace_existing=True,
                          next_run_time=first, max_instances=1, coalesce=True)
    from loa.web.reads import read_engine

    reads = session_factory(read_engine(services.engine))
    scheduler.add_job(review_devices, IntervalTrigger(seconds=devices.check_s), args=(services, reads),
                      id="device-alerts",
                      name="alert about devices offline before their slot", replace_existing=True,
                      next_run_time=first + timedelta(seconds=devices.check_s), max_instances=1, coalesce=True)
    return prober
