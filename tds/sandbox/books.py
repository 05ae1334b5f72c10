"""The Books API (``/books/v3``) and Inventory's adjustments (``/inventory/v1``).

Every call passes the same gate as at Zoho, in this order: injected faults,
the access token, ``organization_id``, then the organization's rate limits.
Every answer carries the daily-quota ``X-Rate-Limit-*`` headers.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from tds.sandbox import writes
from tds.sandbox.app import DROPPED_KEY, json_body, state, zoho_error
from tds.sandbox.clock import parse_time
from tds.sandbox.entities import DEFAULT_PER_PAGE, MAX_PER_PAGE, SPECS, SimulatedEntity
from tds.sandbox.organization import organization
from tds.sandbox.store import ListQuery
from tds.sandbox.writes import ZohoFault, invalid

blueprint = Blueprint("sandbox_books", __name__)
PREFIXES = {"books": "/books/v3", "inventory": "/inventory/v1"}
TOKEN_PREFIX = "Zoho-oauthtoken "  # noqa: S105 - a header scheme, not a secret.
SEARCH_FIELDS = {"salesorders": ("salesorder_number", "reference_number", "customer_name")}
EQUALS_FILTERS = {"contacts": ("contact_type",), "salesorders": ("reference_number",)}
# Listing organizations is how a client finds its organization_id.
ORG_FREE_ENDPOINTS = {"sandbox_books.organizations", "sandbox_books.one_organization"}


@blueprint.before_request
def gate() -> Response | None:
    """Faults, authentication, organization and rate limit, as Zoho applies them."""
    sandbox = state()
    plan = sandbox.faults.plan()
    if plan.delay_seconds:
        time.sleep(plan.delay_seconds)
    if plan.drop:
        sandbox.stats.add("dropped")
        return _drop()
    if plan.fail:
        return zoho_error(500, 1000, "Internal error")
    header = request.headers.get("Authorization", "")
    if not header.startswith(TOKEN_PREFIX) or not sandbox.tokens.valid(
            header.removeprefix(TOKEN_PREFIX).strip()):
        return zoho_error(401, 14, "Invalid OAuth access token.")
    org = request.args.get("organization_id")
    if org is None and request.endpoint not in ORG_FREE_ENDPOINTS:
        return zoho_error(400, 4, "Invalid value passed for organization_id")
    if org is not None and org != sandbox.config.organization_id:
        return zoho_error(400, 6041, "This user is not associated with the "
                                     f"CompanyID/CompanyName:{org}.")
    return _limit(sandbox.config.organization_id)


def _limit(org: str) -> Response | None:
    sandbox = state()
    verdict = sandbox.limiter.check(org)
    if verdict.refused == "daily":
        sandbox.stats.add("rate_limited_daily")
        return zoho_error(429, 45, "You have reached the maximum number of API calls for the day.")
    if verdict.refused == "minute":
        sandbox.stats.add("rate_limited_minute")
        answer = zoho_error(429, sandbox.config.rate_limit_code, sandbox.config.rate_limit_message)
        if sandbox.config.retry_after_seconds is not None:
            answer.headers["Retry-After"] = str(sandbox.config.retry_after_seconds)
        return answer
    return None


def _drop() -> Response:
    connection = request.environ.get("werkzeug.socket")
    if connection is None:
        # Not under werkzeug's server: the closest thing to a drop is an empty 500.
        return Response(status=500)
    connection.shutdown(socket.SHUT_RDWR)
    g.setdefault(DROPPED_KEY, True)
    return Response(status=500)  # never reaches the client: the socket is closed


@blueprint.after_request
def quota_headers(response: Response) -> Response:
    verdict = state().limiter.peek(state().config.organization_id)
    response.headers["X-Rate-Limit-Limit"] = str(verdict.limit)
    response.headers["X-Rate-Limit-Remaining"] = str(verdict.remaining)
    response.headers["X-Rate-Limit-Reset"] = str(verdict.reset_seconds)
    return response


@blueprint.get("/books/v3/organizations")
def organizations() -> Response:
    return _success({"organizations": [organization(state().config)]})


@blueprint.get("/books/v3/organizations/<org_id>")
def one_organization(org_id: str) -> Response:
    if org_id != state().config.organization_id:
        raise ZohoFault(404, 1002, "Organization does not exist.")
    return _success({"organization": organization(state().config)})


def _success(body: dict[str, Any], status: int = 200, message: str = "success") -> Response:
    answer = jsonify(code=0, message=message, **body)
    answer.status_code = status
    return answer


def list_records(spec: SimulatedEntity) -> Response:
    query = _list_query(spec)
    records, has_more = state().store.page_json(spec.name, query)
    context = {"page": query.page, "per_page": query.per_page, "has_more_page": has_more,
               "report_name": spec.label + "s", "applied_filter": "Status.All",
               "sort_column": query.sort_column, "sort_order": query.sort_order}
    # What _success would answer, around the records' JSON as the store keeps it.
    dumps = current_app.json.dumps
    text = (f'{{"code":0,"message":"success",{dumps(spec.list_key)}:[{",".join(records)}],'
            f'"page_context":{dumps(context, separators=(",", ":"))}}}\n')
    return Response(text, mimetype="application/json")


def _list_query(spec: SimulatedEntity) -> ListQuery:
    args = request.args
    since = args.get("last_modified_time")
    try:
        modified_since = parse_time(since) if since else None
    except ValueError:
        raise invalid("last_modified_time") from None
    order = args.get("sort_order", spec.default_order)
    if order not in {"A", "D"}:
        raise invalid("sort_order")
    return ListQuery(
        page=_positive(args, "page", 1),
        # Zoho caps per_page at 200; the sandbox clamps larger values rather than refusing.
        per_page=min(_positive(args, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE),
        sort_column=args.get("sort_column", spec.default_sort), sort_order=order,
        modified_since=modified_since,
        equals={name: args[name] for name in EQUALS_FILTERS.get(spec.name, ()) if name in args},
        search_text=args.get("search_text", ""),
        search_fields=SEARCH_FIELDS.get(spec.name, ()),
    )


def _positive(args: Any, name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid(name)
    return int(raw)


def get_record(spec: SimulatedEntity, record_id: str) -> Response:
    record = state().store.get(spec.name, record_id)
    if record is None:
        raise _missing(spec)
    return _success({spec.single_key: record})


def _missing(spec: SimulatedEntity) -> ZohoFault:
    return ZohoFault(404, 1002, f"{spec.label} does not exist.")


def create_record(spec: SimulatedEntity) -> Response:
    sandbox = state()
    record, items = writes.create(sandbox.store, spec.name, json_body())
    for item in items:
        sandbox.emitter.emit("items", item)
    sandbox.emitter.emit(spec.name, record)
    return _success({spec.single_key: record}, 201, spec.created_message)


def update_record(spec: SimulatedEntity, record_id: str) -> Response:
    record = writes.update(state().store, spec.name, record_id, json_body())
    if record is None:
        raise _missing(spec)
    state().emitter.emit(spec.name, record)
    return _success({spec.single_key: record}, 200, spec.updated_message)


def delete_record(spec: SimulatedEntity, record_id: str) -> Response:
    if not state().store.delete(spec.name, record_id):
        raise _missing(spec)
    return _success({}, 200, spec.deleted_message)


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
                           methods=["GET", "PUT", "DELETE"])


for _spec in SPECS.values():
    _register(_spec)
