"""How Zoho serves price lists beyond the plain list: there is no GET of one
price list, so its items and changed price lists come from two reads of their
own (``pricelists.yml``; their response schemas there are envelopes only).

``GET /books/v3/pricebooks/items?pricebook_id=`` pages through one price
list's items, each row ``{item_id, name, sku, rate, pricebook_rate,
pricing_scheme}`` under ``pricebook_items``, in item name order.
``GET /books/v3/pricebooks/bulkfetch`` lists price lists (list rows, no
items) under ``pricebooks``, active ones unless ``filter_by`` says otherwise,
with the ``last_modified_time`` filter and paging of the other lists.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request

from tds.sandbox.app import state
from tds.sandbox.entities import SPECS
from tds.sandbox.listing import list_answer, list_query, paging
from tds.sandbox.records import missing
from tds.sandbox.store import ListQuery
from tds.sandbox.writes import invalid

blueprint = Blueprint("sandbox_pricebooks", __name__, url_prefix="/books/v3/pricebooks")
SPEC = SPECS["pricebooks"]


@blueprint.get("/items")
def pricebook_items() -> Response:
    """One page of a price list's items; 400 code 4 without ``pricebook_id``, 404 code
    1002 "Price List does not exist." for an unknown one."""
    pricebook_id = request.args.get("pricebook_id")
    if not pricebook_id:
        raise invalid("pricebook_id")
    store = state().store
    pricebook = store.get(SPEC.name, pricebook_id)
    if pricebook is None:
        raise missing(SPEC)
    rows = sorted((row for entry in pricebook.get("pricebook_items") or ()
                   if (row := _row(entry, store.get("items", str(entry.get("item_id")))))),
                  key=lambda row: (str(row["name"]).lower(), row["item_id"]))
    page_number, per_page = paging()
    query = ListQuery(page=page_number, per_page=per_page, sort_column="name")
    start = (query.page - 1) * query.per_page
    page = [json.dumps(row, separators=(",", ":"))
            for row in rows[start:start + query.per_page]]
    return list_answer("pricebook_items", "Price List Items", query, page,
                       len(rows) > start + query.per_page)


def _row(entry: dict[str, Any], item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:  # the item was deleted since; Zoho drops it from its price lists
        return None
    return {"item_id": item["item_id"], "name": item["name"], "sku": item.get("sku", ""),
            "rate": item.get("rate", 0), "pricebook_rate": entry.get("pricebook_rate", 0),
            "pricing_scheme": entry.get("pricing_scheme", "unit")}


@blueprint.get("/bulkfetch")
def bulkfetch() -> Response:
    """Price lists as list rows, filtered by ``filter_by`` status and ``last_modified_time``."""
    query = list_query(SPEC, status_filter=True)
    rows, has_more = state().store.page_json(SPEC.name, query)
    return list_answer(SPEC.list_key, SPEC.label + "s", query, rows, has_more)
