"""The consumer API's answers as marshmallow schemas: views dump through them, and
the OpenAPI document (:mod:`.docs`) is generated from them, so the two agree.

Times are ISO 8601 in UTC; ages and durations are seconds.
"""

from __future__ import annotations

from marshmallow import Schema, fields
from marshmallow.validate import OneOf

from tds.orders.schemas import STATES

HEALTH = ("ok", "stale", "failing", "stalled")


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "A code: unauthorized, "
                                                   "validation_failed, conflict..."})
    message = fields.String(required=True, metadata={"description": "What to do."})
    field_errors = fields.Dict(data_key="fields", metadata={
        "description": "Per field, what is wrong (validation_failed only)."})


class LineItemOutSchema(Schema):
    item_id = fields.String(allow_none=True)
    local_product_id = fields.Integer()
    quantity = fields.Float(required=True)
    rate = fields.Float(required=True)
    description = fields.String()


class OrderSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=OneOf(STATES), metadata={
        "description": "pending until Zoho holds it; created; rejected by Zoho (see "
                       "reason); failed when TDS gave up on a fault not the order's."})
    reference_number = fields.String(allow_none=True)
    customer_id = fields.String(allow_none=True)
    line_items = fields.List(fields.Nested(LineItemOutSchema), required=True)
    date = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    salesorder_id = fields.String(allow_none=True)
    salesorder_number = fields.String(allow_none=True)
    zoho_status = fields.String(allow_none=True)
    total = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class OrderAnswerSchema(Schema):
    order = fields.Nested(OrderSchema, required=True)
    message = fields.String(required=True)


class OrderListSchema(Schema):
    orders = fields.List(fields.Nested(OrderSchema), required=True)
    next_after_id = fields.Integer(allow_none=True, metadata={
        "description": "Pass as after_id for the next page; null on the last."})


class PassSchema(Schema):
    entity = fields.String(required=True)
    mode = fields.String(required=True)
    pass_id = fields.Integer(required=True, metadata={"description": "Its ledger row."})
    joined = fields.Boolean(required=True, metadata={
        "description": "True when this request joined a pass already open."})
    queued = fields.Boolean(required=True, metadata={
        "description": "Whether a task was sent now (else the dispatcher sends it)."})


class SyncAnswerSchema(Schema):
    passes = fields.List(fields.Nested(PassSchema), required=True)
    message = fields.String(required=True)


class RunSchema(Schema):
    started_at = fields.String()
    finished_at = fields.String()
    outcome = fields.String(validate=OneOf(("ok", "failed")))
    seen = fields.Integer()
    rows = fields.Integer()
    error = fields.String()


class OpenPassSchema(Schema):
    pass_id = fields.Integer(required=True)
    mode = fields.String(allow_none=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    queued_at = fields.DateTime(required=True)


class EntityStatusSchema(Schema):
    cursor = fields.DateTime(allow_none=True, metadata={
        "description": "The newest last_modified_time a pass has seen."})
    freshness_seconds = fields.Float(allow_none=True, metadata={
        "description": "Age of the newest change seen."})
    last_success = fields.Dict(keys=fields.String(),
                               values=fields.DateTime(allow_none=True), required=True)
    runs = fields.Dict(keys=fields.String(), values=fields.Nested(RunSchema), required=True)
    last_error = fields.String(allow_none=True)
    open_passes = fields.List(fields.Nested(OpenPassSchema), required=True)
    ledger = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    health = fields.String(required=True, validate=OneOf(HEALTH))
    health_reason = fields.String(required=True)


class InboxSchema(Schema):
    backlog = fields.Integer(required=True)
    oldest_age_seconds = fields.Float(allow_none=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DeadLetterSchema(Schema):
    ledger_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    entity = fields.String(required=True)
    inbox_event_id = fields.Integer(allow_none=True)
    attempts = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class DeadLettersSchema(Schema):
    count = fields.Integer(required=True)
    items = fields.List(fields.Nested(DeadLetterSchema), required=True)


class BudgetSchema(Schema):
    limit = fields.Integer(required=True)
    used = fields.Integer(required=True)
    remaining = fields.Integer(required=True)
    resets_in_seconds = fields.Integer(required=True)
    limit_from_zoho = fields.Boolean(required=True)


class StatusSchema(Schema):
    organization_id = fields.String(required=True)
    generated_at = fields.DateTime(required=True)
    entities = fields.Dict(keys=fields.String(), values=fields.Nested(EntityStatusSchema),
                           required=True)
    ledger = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    inbox = fields.Nested(InboxSchema, required=True)
    dead_letters = fields.Nested(DeadLettersSchema, required=True)
    orders = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    zoho_budget = fields.Nested(BudgetSchema, allow_none=True, required=True, metadata={
        "description": "Zoho's daily quota today; null when its store cannot be read."})


class CredentialsSchema(Schema):
    ok = fields.Boolean(required=True)
    problem = fields.String(allow_none=True, required=True)
    message = fields.String(required=True)
    remedy = fields.String(allow_none=True, required=True)
    parts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    organizations = fields.List(fields.String(), required=True)
    api_domain = fields.String(allow_none=True, required=True)
