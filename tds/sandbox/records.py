"""Each entity's routes: list and create on the collection, get, update and
delete on one record, under ``/books/v3`` or ``/inventory/v1``; and for
items, contacts and price lists ``POST .../{id}/active`` and ``.../inactive``.
Price lists have no single GET (Zoho documents none): GET on one is 405.

A create answers HTTP 201 with the entity's message and the object; marking
answers ``{"code": 0, "message": "The item has been marked as inactive."}``
(Zoho's OpenAPI examples); a missing record is 404 code 1002 "<Label> does
not exist.". Every write, a deletion too, emits the webhook Zoho's workflow
rule would send.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, request

from tds.sandbox import stock, writes
from tds.sandbox.app import drop_connection, json_body, state, success
from tds.sandbox.entities import SPECS, SimulatedEntity
from tds.sandbox.listing import list_answer, list_query
from tds.sandbox.writes import ZohoFault

blueprint = Blueprint("sandbox_records", __name__)
PREFIXES = {"books": "/books/v3", "inventory": "/inventory/v1"}


def list_records(spec: SimulatedEntity) -> Response:
    query = list_query(spec)
    rows, has_more = state().store.page_json(spec.name, query)
    return list_answer(spec.list_key, spec.label + "s", query, rows, has_more)


def get_record(spec: SimulatedEntity, record_id: str) -> Response:
    record = state().store.get(spec.name, record_id)
    if record is None:
        raise missing(spec)
    return success({spec.single_key: record})


def missing(spec: SimulatedEntity) -> ZohoFault:
    return ZohoFault(404, 1002, f"{spec.label} does not exist.")


def create_record(spec: SimulatedEntity) -> Response:
    sandbox = state()
    body = json_body()
    if spec.name == "inventory_adjustments":
        record, items = stock.adjust(sandbox.store, body,
                                     moves_stamp=sandbox.config.stock_moves_stamp)
    else:
        ignore_numbering = request.args.get("ignore_auto_number_generation",
                                            "").lower() == "true"
        record = writes.create(sandbox.store, spec.name, body, auto_number=not ignore_numbering)
        items = []
    for item in items:
        sandbox.emitter.emit("items", item)
    sandbox.emitter.emit(spec.name, record)
    if sandbox.faults.lose_create_answer():
        sandbox.stats.add("create_answers_lost")
        return drop_connection()
    return success({spec.single_key: record}, 201, spec.created_message)


def update_record(spec: SimulatedEntity, record_id: str) -> Response:
    record = writes.update(state().store, spec.name, record_id, json_body())
    if record is None:
        raise missing(spec)
    state().emitter.emit(spec.name, record)
    return success({spec.single_key: record}, 200, spec.updated_message)


def delete_record(spec: SimulatedEntity, record_id: str) -> Response:
    if not state().store.delete(spec.name, record_id):
        raise missing(spec)
    state().emitter.emit_deleted(spec.name, record_id)
    return success({}, 200, spec.deleted_message)


def mark_record(spec: SimulatedEntity, record_id: str, status: str, message: str) -> Response:
    """Set ``status`` ("active" or "inactive"); Zoho counts it as an edit."""
    sandbox = state()
    record = sandbox.store.modify(spec.name, record_id, lambda found: {**found, "status": status})
    if record is None:
        raise missing(spec)
    sandbox.emitter.emit(spec.name, record)
    return success({}, 200, message)


def _register(spec: SimulatedEntity) -> None:
    base = f"{PREFIXES[spec.api]}/{spec.url_segment}"

    def collection() -> Response:
        return create_record(spec) if request.method == "POST" else list_records(spec)

    def member(record_id: str) -> Response:
        if request.method == "PUT":
            return update_record(spec, record_id)
        if request.method == "DELETE":
            return delete_record(spec, record_id)
        return get_record(spec, record_id)

    blueprint.add_url_rule(base, f"{spec.name}_collection", collection, methods=["GET", "POST"])
    blueprint.add_url_rule(f"{base}/<record_id>", f"{spec.name}_member", member,
                           methods=["GET", "PUT", "DELETE"] if spec.single_get else
                           ["PUT", "DELETE"])
    if spec.marked_messages is None:
        return
    for status, message in zip(("active", "inactive"), spec.marked_messages, strict=True):
        blueprint.add_url_rule(f"{base}/<record_id>/{status}", f"{spec.name}_{status}",
                               partial(mark_record, spec, status=status, message=message),
                               methods=["POST"])


for _spec in SPECS.values():
    _register(_spec)
