"""Says in Vietnamese what a CAP alert will do: which emergency, to which communes, until when, or why nothing."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from scheduler.emergencies.cap_intake import Intake, Received

SEVERITY = {"Extreme": "cực kỳ nghiêm trọng", "Severe": "nghiêm trọng", "Moderate": "trung bình", "Minor": "nhẹ",
            "Unknown": "chưa rõ"}
URGENCY = {"Immediate": "cần làm ngay", "Expected": "sắp xảy ra (trong khoảng một giờ)",
           "Future": "trong thời gian tới", "Past": "đã qua", "Unknown": "chưa rõ"}
CERTAINTY = {"Observed": "đã xảy ra", "Likely": "nhiều khả năng xảy ra", "Possible": "có thể xảy ra",
             "Unlikely": "ít khả năng xảy ra", "Unknown": "chưa rõ"}
MESSAGE_TYPES = {"Alert": "cảnh báo mới", "Update": "cập nhật", "Cancel": "hủy cảnh báo", "Ack": "xác nhận",
                 "Error": "báo lỗi"}
NOTES = {
    "already_received": "tin này đã nhận trước đây: không làm gì thêm",
    "nothing_to_clear": "không có cảnh báo nào đang chờ hay đang phát ứng với tin được nhắc tới",
    "reference_unknown": "chưa từng nhận tin được cập nhật, hay nó đã kết thúc: tin này thành một cảnh báo mới",
    "update_held": "nguồn tin chưa được tin cậy: bản cập nhật nằm chờ dưới dạng bản nháp, cảnh báo đang phát vẫn "
                   "phát cho tới khi người có quyền gửi bản cập nhật và kết thúc cảnh báo cũ",
}
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
             received: Received | None = None) -> list[str]:
    """Lines for a person: the alert, its level, then what loa did (``received``) or would do."""
    alert = intake.alert
    info = alert.info()
    lines = [f"Tin CAP {alert.key} ({MESSAGE_TYPES.get(alert.msg_type, alert.msg_type)}, gửi lúc "
             f"{_when(alert.sent, zone)})"]
    if received is not None and received.note == "already_received":
        return [*lines, "Ghi chú: " + NOTES[received.note]]
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
    if intake.action in ("issue", "replace"):
        communes = ("mọi xã của trung tâm" if intake.targets == ("*",) else
                    f"{len(intake.targets)} xã: " + ", ".join(f"{code} {station_name(code)}"
                                                              for code in intake.targets))
        lines += _outcome(intake, received, draft, communes)
        if intake.starts_at:
            lines.append(f"Bắt đầu: {_when(intake.starts_at, zone)}")
        if intake.until:
            lines.append(f"Đến: {_when(intake.until, zone)}")
        if intake.text:
            lines.append("Nội dung: " + intake.text.replace("\n\n", " "))
    else:
        lines += _outcome(intake, received, draft, "")
    return lines


def _outcome(intake: Intake, received: Received | None, draft: bool, communes: str) -> list[str]:
    """What was done (``received``) or would be done with the alert."""
    if received is None:  # a dry run
        if intake.action == "clear":
            return ["Sẽ kết thúc cảnh báo ứng với tin " + ", ".join(intake.references)]
        if intake.action == "none":
            return ["Không phát gì"]
        verb = "Sẽ thay cảnh báo trước bằng tin này" if intake.action == "replace" else "Sẽ phát khẩn cấp"
        return [f"{verb} ({'bản nháp, chờ người duyệt bấm gửi' if draft else 'nguồn tin tin cậy: gửi ngay'}) "
                f"tới {communes}"]
    lines = ["Ghi chú: " + NOTES[received.note]] if received.note else []
    if received.issued is not None:
        number = received.issued.id
        lines.append(f"Đã lưu bản nháp cảnh báo khẩn cấp số {number}, chờ người có quyền bấm gửi, tới {communes}"
                     if received.draft else f"Đã phát cảnh báo khẩn cấp số {number} tới {communes}")
    if received.issued is not None and received.draft:
        lines.append(f"Gửi bản nháp: loa emergency confirm {received.issued.id}")
    if received.replaced:
        lines.append("Thay cho cảnh báo số " + ", ".join(str(i) for i in received.replaced)
                     + " (đã kết thúc, loa phát thông báo hết cảnh báo nếu nó đang phát)")
    if received.cleared:
        lines.append("Đã kết thúc cảnh báo số " + ", ".join(str(i) for i in received.cleared))
    if not lines or (intake.action == "none" and not received.note):
        lines.append("Không phát gì")
    return lines
