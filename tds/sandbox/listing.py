"""List requests and answers as Zoho shapes them: paging, sort, filters, and
the envelope with its ``page_context``.

``per_page`` defaults to 200 (recorded real answers held 200 rows when it was
omitted, though some doc pages say 10) and larger values are clamped to 200.
Lists that take ``filter_by`` (items, contacts, price lists' bulkfetch) show
active records only unless it says ``Status.All`` or ``Status.Inactive``;
other values are 400 code 4.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from tds.sandbox.clock import parse_time
from tds.sandbox.entities import DEFAULT_PER_PAGE, MAX_PER_PAGE, SimulatedEntity
from tds.sandbox.store import ListQuery
from tds.sandbox.writes import invalid

SEARCH_FIELDS = {"salesorders": ("salesorder_number", "reference_number", "customer_name")}
EQUALS_FILTERS = {"contacts": ("contact_type",), "salesorders": ("reference_number",)}
# filter_by values of Zoho's items and contacts documents that the sandbox models.
STATUS_FILTERS: dict[str, frozenset[str] | None] = {
    "Status.All": None, "Status.Active": frozenset({"active"}),
    "Status.Inactive": frozenset({"inactive"}),
}
DEFAULT_STATUS_FILTER = "Status.Active"


def list_query(spec: SimulatedEntity, *, status_filter: bool | None = None) -> ListQuery:
    """The current request's list parameters for ``spec``; 400 code 4 when one is invalid.

    ``status_filter`` overrides the spec's: whether ``filter_by`` is a status filter.
    """
    args = request.args
    since = args.get("last_modified_time")
    try:
        modified_since = parse_time(since) if since else None
    except ValueError:
        raise invalid("last_modified_time") from None
    order = args.get("sort_order", spec.default_order)
    if order not in {"A", "D"}:
        raise invalid("sort_order")
    page, per_page = paging()
    return ListQuery(
        page=page, per_page=per_page, sort_column=args.get("sort_column", spec.default_sort),
        sort_order=order,
        statuses=_statuses(spec.status_filter if status_filter is None else status_filter),
        modified_since=modified_since,
        equals={name: args[name] for name in EQUALS_FILTERS.get(spec.name, ()) if name in args},
        search_text=args.get("search_text", ""),
        search_fields=SEARCH_FIELDS.get(spec.name, ()),
    )


def _statuses(status_filter: bool) -> frozenset[str] | None:
    if not status_filter:
        return None
    name = request.args.get("filter_by", DEFAULT_STATUS_FILTER)
    if name not in STATUS_FILTERS:
        raise invalid("filter_by")
    return STATUS_FILTERS[name]


def paging() -> tuple[int, int]:
    """``page`` and ``per_page`` of the current request (400 code 4 unless positive)."""
    # Zoho caps per_page at 200; the sandbox clamps larger values rather than refusing.
    return _positive("page", 1), min(_positive("per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)


def _positive(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise invalid(name)
    return int(raw)


def list_answer(list_key: str, report_name: str, query: ListQuery, rows: list[str],
                has_more: bool) -> Response:
    """``{"code": 0, "message": "success", <list_key>: [...], "page_context": {...}}``
    around ``rows``, each already JSON text as the store keeps it."""
    applied = next(name for name, statuses in STATUS_FILTERS.items()
                   if statuses == query.statuses)
    context: dict[str, Any] = {
        "page": query.page, "per_page": query.per_page, "has_more_page": has_more,
        "report_name": report_name, "applied_filter": applied,
        "sort_column": query.sort_column, "sort_order": query.sort_order,
    }
    dumps = current_app.json.dumps
    text = (f'{{"code":0,"message":"success",{dumps(list_key)}:[{",".join(rows)}],'
            f'"page_context":{dumps(context, separators=(",", ":"))}}}\n')
    return Response(text, mimetype="application/json")
