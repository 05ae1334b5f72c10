"""`/healthz` (the process answers) and `/readyz` (database and broker reachable)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify

from webhooks_app.extensions import tds_ext

blueprint = Blueprint("health", __name__)
log = logging.getLogger("tds.health")


@blueprint.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> Any:
    ext = tds_ext()
    checks: dict[str, str] = {}
    try:
        ext.database.ping()
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready; say which.
        checks["database"] = f"unreachable: {type(error).__name__}: {str(error)[:200]}"
    try:
        ext.broker_connection().ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready; say which.
        checks["broker"] = f"unreachable: {type(error).__name__}: {str(error)[:200]}"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        log.warning("not ready", extra={"checks": checks})
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    if not ready:
        body["message"] = "A dependency is unreachable; check DATABASE_URL and CELERY_BROKER_URL."
    return jsonify(body), 200 if ready else 503
