"""Test controls under ``/__admin``: faults, stats, data changes, snapshots.

Not part of Zoho's API; tests and benchmarks use these to make Zoho-side
things happen (edits, deletions, outages) and to check what was synced.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from tds.sandbox.app import json_body, state
from tds.sandbox.entities import SPECS
from tds.sandbox.writes import ZohoFault

blueprint = Blueprint("sandbox_admin", __name__, url_prefix="/__admin")


def _entity(name: Any) -> str:
    if name not in SPECS:
        raise ZohoFault(404, 5, f"Unknown entity {name!r}; use one of {', '.join(SPECS)}.")
    return str(name)


@blueprint.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    """Read or change latency_ms, error_rate, drop_rate, drop_after_create;
    ``expire_tokens`` expires all."""
    sandbox = state()
    if request.method == "GET":
        return jsonify(sandbox.faults.settings())
    body = json_body()
    try:
        settings = sandbox.faults.update(body)
    except (TypeError, ValueError) as error:
        raise ZohoFault(400, 4, str(error)) from None
    expired = sandbox.tokens.expire_all() if body.get("expire_tokens") else 0
    return jsonify({**settings, "expired_tokens": expired})


@blueprint.get("/stats")
def stats() -> Response:
    return jsonify(state().stats.snapshot())


@blueprint.post("/reset-stats")
def reset_stats() -> Response:
    state().stats.reset()
    return jsonify(reset=True)


@blueprint.post("/change")
def change() -> Response:
    """Edit ``count`` random records of ``entity`` and emit their webhooks."""
    body = json_body()
    count = body.get("count", 1)
    if not isinstance(count, int) or count < 0:
        raise ZohoFault(400, 4, "count must be a whole number >= 0.")
    changed = state().mutator.change(_entity(body.get("entity")), count)
    id_field = SPECS[body["entity"]].id_field
    return jsonify(changed=[{"id": record[id_field],
                             "last_modified_time": record["last_modified_time"]}
                            for record in changed])


@blueprint.post("/delete")
def delete() -> Response:
    """Delete records by id, as a user deleting them in Zoho would: silently, or with
    the Deleted webhook when ``"webhook": true``."""
    body = json_body()
    entity = _entity(body.get("entity"))
    webhook = body.get("webhook", False)
    if not isinstance(webhook, bool):
        raise ZohoFault(400, 4, "webhook must be true or false.")
    ids = [str(record_id) for record_id in body.get("ids", [])]
    deleted = [record_id for record_id in ids if state().store.delete(entity, record_id)]
    if webhook:
        for record_id in deleted:
            state().emitter.emit_deleted(entity, record_id)
    return jsonify(deleted=deleted)


@blueprint.get("/records/<entity>")
def records(entity: str) -> Response:
    """``{id: last_modified_time}`` of every record, for comparing with the database."""
    return jsonify(state().store.versions(_entity(entity)))


@blueprint.post("/flush-webhooks")
def flush_webhooks() -> Response:
    """Wait (up to ``timeout`` seconds, default 30) until queued webhooks were sent."""
    timeout = float(request.args.get("timeout", "30"))
    return jsonify(flushed=state().emitter.flush(timeout))
