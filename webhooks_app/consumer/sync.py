"""``POST /consumer/sync/inventory`` (and ``/consumer/sync/<entity>``),
``GET /consumer/sync/status`` and ``GET /consumer/credentials``.

A sync request opens the entity's pass or joins the open one
(:func:`tds.passes.open_pass`), so a second request while one runs gets the running
pass; a new pass's task goes to the maintenance queue (the dispatcher sends it if
that fails). ``inventory`` is stock (which carries products) and prices.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, request

from tds import passes
from tds.entities import MAINTENANCE_QUEUE, entity_named
from tds.errors import TDSError
from tds.sync import MODES
from tds.sync_status import sync_status
from tds.zoho.ratelimit import DayQuota
from webhooks_app.consumer.answers import ApiError, answer
from webhooks_app.consumer.schemas import CredentialsSchema, StatusSchema, SyncAnswerSchema
from webhooks_app.consumer.sending import send
from webhooks_app.extensions import tds_ext
from workers import names

blueprint = Blueprint("sync", __name__)
log = logging.getLogger("tds.consumer")
INVENTORY = ("stock", "prices")
TRUE = frozenset({"1", "true", "yes"})
# Schemas keep no state between dumps: each is made once.
SYNC_ANSWER, STATUS, CREDENTIALS = SyncAnswerSchema(), StatusSchema(), CredentialsSchema()


@blueprint.post("/sync/<target>")
def request_sync(target: str) -> Response:
    """Open (or join) the passes of `target`: ``inventory`` or one entity."""
    ext = tds_ext()
    mode = _mode()
    try:
        entities = INVENTORY if target == "inventory" else (entity_named(target).name,)
    except TDSError as error:
        raise ApiError(404, "not_found", f"{error} Or inventory (stock and prices).") from None
    with ext.database.session() as session:
        opened = [(entity, *passes.open_pass(session, ext.settings, entity, mode))
                  for entity in entities]
    answered = []
    for entity, item_id, created in opened:
        queued = created and send(names.RUN_OPEN_SYNC, [item_id], MAINTENANCE_QUEUE)
        answered.append({"entity": entity, "mode": mode, "pass_id": item_id,
                         "joined": not created, "queued": queued})
    joined = all(entry["joined"] for entry in answered)
    message = ("A pass was running already; this request joined it." if joined else
               "Sync requested; follow it in GET /consumer/sync/status.")
    return answer(SYNC_ANSWER, {"passes": answered, "message": message}, 202)


@blueprint.get("/sync/status")
def status() -> Response:
    """Per entity and overall: cursors, runs, health, ledger, inbox, dead letters, quota."""
    ext = tds_ext()
    quota = _quota()
    with ext.database.session() as session:
        return answer(STATUS, sync_status(session, ext.settings, quota))


@blueprint.get("/credentials")
def credentials() -> Response:
    """One real call to Zoho with the configured credentials: which part is wrong."""
    check = tds_ext().zoho_client().test_connection()
    return answer(CREDENTIALS, {
        "ok": check.ok, "problem": check.problem, "message": check.message,
        "remedy": check.remedy, "parts": check.parts,
        "organizations": list(check.organizations), "api_domain": check.api_domain})


def _mode() -> str:
    if request.args.get("full", "").lower() in TRUE:
        return "full"
    mode = request.args.get("mode", "incremental")
    if mode not in MODES:
        raise ApiError(400, "bad_request", f"mode must be one of {', '.join(MODES)} "
                       "(or full=true).")
    return mode


def _quota() -> DayQuota | None:
    try:
        return tds_ext().zoho_client().budget.day_quota()
    except redis.RedisError as error:
        log.warning("the rate budget cannot be read", extra={"error": str(error)[:200]})
        return None
