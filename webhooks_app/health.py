"""`/healthz` (the process answers: it touches no dependency) and `/readyz` (the
database and the broker answer, each within its own short timeout).

`/readyz` says one word per dependency (``ok``, ``unreachable``, ``timeout``); why
a dependency failed (hosts, ports, driver errors) goes to the log only, never to
an anonymous caller.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from webhooks_app.extensions import tds_ext
from webhooks_app.probes import OK

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> Any:
    checks = {name: probe.status() for name, probe in tds_ext().probes.items()}
    ready = all(status == OK for status in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "checks": checks}
    if not ready:
        body["message"] = ("A dependency does not answer; the receiver's log says why. "
                           "Check DATABASE_URL and CELERY_BROKER_URL.")
    return jsonify(body), 200 if ready else 503
