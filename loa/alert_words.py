"""Says in Vietnamese what a CAP alert will do: which emergency, to which communes, until when, or why nothing."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from scheduler.emergencies.cap_intake import Intake

SEVERITY = {"Extreme": "cực kỳ nghiêm trọng", "Severe": "nghiêm trọng", "Moderate": "trung bình", "Minor": "nhẹ",
            "Unknown": "chưa rõ"}
URGENCY = {"Immediate": "cần làm ngay", "Expected": "sắp xảy ra (trong khoảng một giờ)",
           "Future": "trong thời gian tới", "Past": "đã qua", "Unknown": "chưa rõ"}
CERTAINTY = {"Observed": "đã xảy ra", "Likely": "nhiều khả năng xảy ra", "Possible": "có thể xảy ra",
             "Unlikely": "ít khả năng xảy ra", "Unknown": "chưa rõ"}
MESSAGE_TYPES = {"Alert": "cảnh báo mới", "Update": "cập nhật", "Cancel": "hủy cảnh báo", "Ack": "xác nhận",
                 "Error": "báo lỗi"}
REASONS = {
    "not_actual": "tin có trạng thái {status}, không phải tin thật (Actual): không phát",
    "not_public": "tin dành cho phạm vi {scope}, không phải công khai (Public): loa công cộng không phát",
    "not_an_alert": "tin loại {msg_type} không yêu cầu phát gì",
    "no_info": "tin không có phần nội dung <info> nào để phát",
    "expired": "tin đã hết hạn lúc {expires}",
    "no_stations": "vùng cảnh báo không có xã nào trong geocodes.toml",
}


def _when(moment, zone: ZoneInfo) -> str:  # type: ignore[no-untyped-def]
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def describe(intake: Intake, *, zone: ZoneInfo, station_name: Callable[[str], str], draft: bool,
             done: bool) -> list[str]:
    """Lines for a person: the alert, its level, then what loa did (``done``) or would do."""
    alert = intake.alert
    info = alert.info()
    lines = [f"Tin CAP {alert.key} ({MESSAGE_TYPES.get(alert.msg_type, alert.msg_type)}, gửi lúc "
             f"{_when(alert.sent, zone)})"]
    if info is not None:
        lines.append(f"Tiêu đề: {intake.title or info.headline or info.event}")
        lines.append(f"Mức độ: {SEVERITY.get(info.severity, info.severity)}; khẩn cấp: "
                     f"{URGENCY.get(info.urgency, info.urgency)}; độ chắc chắn: "
                     f"{CERTAINTY.get(info.certainty, info.certainty)}")
    if intake.areas:
        lines.append("Vùng: " + "; ".join(intake.areas))
    if intake.unknown_geocodes:
        lines.append("Mã vùng không có trong geocodes.toml: "
                     + ", ".join(f"{g.value_name} {g.value}" for g in intake.unknown_geocodes))
    if intake.reason:
        details = {**intake.details, "expires": _when(intake.until, zone)}
        lines.append("Lý do: " + REASONS[intake.reason].format(**details))
    verb = {"issue": "Đã phát khẩn cấp" if done else "Sẽ phát khẩn cấp",
            "replace": "Đã thay cảnh báo trước bằng tin này" if done else "Sẽ thay cảnh báo trước bằng tin này",
            "clear": "Đã kết thúc cảnh báo" if done else "Sẽ kết thúc cảnh báo",
            "none": "Không phát gì"}[intake.action]
    if intake.action in ("issue", "replace"):
        state = " (bản nháp, chờ người duyệt bấm gửi)" if draft else " (nguồn tin tin cậy: gửi ngay)"
        communes = ("mọi xã của trung tâm" if intake.targets == ("*",) else
                    f"{len(intake.targets)} xã: " + ", ".join(f"{code} {station_name(code)}"
                                                              for code in intake.targets))
        lines.append(f"{verb}{state} tới {communes}")
        if intake.starts_at:
            lines.append(f"Bắt đầu: {_when(intake.starts_at, zone)}")
        if intake.until:
            lines.append(f"Đến: {_when(intake.until, zone)}")
        if intake.text:
            lines.append("Nội dung: " + intake.text.replace("\n\n", " "))
    elif intake.action == "clear":
        lines.append(f"{verb} " + ", ".join(intake.references) if intake.references else verb)
    else:
        lines.append(verb)
    return lines
