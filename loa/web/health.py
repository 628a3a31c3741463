"""``/healthz`` (whether the database answers) and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz(request: Request) -> JSONResponse:
    """Whether the database answers; 503 when it does not. Asked on a read connection: on SQLite a read
    never waits for the write lock, so a long write elsewhere does not make loa look dead."""
    services = request.app.state.services
    try:
        with request.app.state.reads.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means unhealthy, whatever its kind
        return JSONResponse({"status": "error", "database": str(error)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "time": services.now().isoformat()})


@router.get("/metrics", tags=["health"])
def metrics(request: Request) -> Response:
    """Deliveries by state, the age of the oldest due delivery, the last plan time and leadership, as Prometheus
    text."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

    from loa.web.metrics import device_figures, outbox_figures

    services = request.app.state.services
    figures = outbox_figures(services.sessions, services.now())
    registry = CollectorRegistry()
    by_state = Gauge("loa_deliveries", "Deliveries in the outbox by state.", ["state"], registry=registry)
    for state, count in figures.by_state.items():
        by_state.labels(state=state).set(count)
    Gauge("loa_outbox_oldest_due_age_seconds", "How long the oldest due, unpushed delivery has waited (0 if none).",
          registry=registry).set(figures.queue_age_s)
    Gauge("loa_last_plan_timestamp_seconds", "When the plan last changed (Unix time; 0 if never).",
          registry=registry).set(figures.last_plan.timestamp() if figures.last_plan else 0)
    Gauge("loa_integrity_alerts", "Pushes refused in the last 7 days because a seal or hash did not hold (ALERT).",
          registry=registry).set(figures.integrity_alerts)
    devices = device_figures(request.app.state.reads.sessions, services.settings.stations,
                             services.settings.loa.devices, services.now())
    by_device_state = Gauge("loa_devices", "Configured outlets by the state of their device.", ["state"],
                            registry=registry)
    for state, count in devices.by_state.items():
        by_device_state.labels(state=state).set(count)
    Gauge("loa_device_alerts", "Devices out of contact before their slot with an alert open.",
          registry=registry).set(devices.alerts)
    leadership = getattr(request.app.state, "leadership", None)
    Gauge("loa_scheduler_leader", "1 when this process runs the scheduler jobs.",
          registry=registry).set(1 if leadership is not None and leadership.leader else 0)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

