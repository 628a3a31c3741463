"""``[devices]`` in loa.toml: how often devices speak, when silence makes them late or offline, and where alerts go."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DevicesSettings(BaseModel):
    """``[devices]``: the beat every device is expected to keep and the thresholds of its states.

    A device is *late* once ``late_after_s`` have passed since its next beat was due (its last word plus
    ``beat_s``, or plus ``probe_s`` for a probed device), *offline* after ``offline_after_s``. Offline
    ``alert_before_slot_minutes`` or less before one of its slots, it raises an alert (``alert_webhook_url``,
    signed with the secret in ``alert_secret_env``; an e-mail to ``alert_mail_to`` through ``smtp_host``).
    A device whose clock is more than ``max_clock_skew_s`` off loa's is flagged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    beat_s: float = Field(30.0, gt=0, le=24 * 3600)
    probe_s: float = Field(60.0, ge=5, le=24 * 3600)
    late_after_s: float = Field(30.0, ge=0, le=24 * 3600)
    offline_after_s: float = Field(270.0, gt=0, le=7 * 24 * 3600)
    alert_before_slot_minutes: int = Field(30, ge=0, le=24 * 60)
    #: How often the leader looks for devices to alert about (and alerts to clear).
    check_s: float = Field(30.0, ge=1, le=3600)
    max_clock_skew_s: float = Field(5.0, gt=0, le=24 * 3600)
    alert_webhook_url: str | None = Field(None, pattern=r"^https?://")
    alert_secret_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    alert_mail_to: list[str] = []
    alert_mail_from: str = "loa@localhost"
    smtp_host: str | None = None
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password_env: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _consistent(self) -> DevicesSettings:
        if self.offline_after_s <= self.late_after_s:
            raise ValueError("offline_after_s must be more than late_after_s")
        if self.alert_mail_to and not self.smtp_host:
            raise ValueError("alert_mail_to needs smtp_host (the SMTP server that sends the e-mails)")
        if self.alert_webhook_url and not self.alert_secret_env:
            raise ValueError("alert_webhook_url needs alert_secret_env (the variable holding the signing secret)")
        return self
