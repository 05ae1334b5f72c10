"""Sandbox answers validate against Zoho's published OpenAPI response schemas,
and list rows are what Zoho's list schemas say they are.

Uses openapi-schema-validator (OpenAPI 3.0 dialect) on the 200 schema of
each list and get operation. Three documented-container mistakes in Zoho's
files are corrected first, each to what real answers send (see the
zoho-openapi README): invoices' page_context typed array, creditnotes'
list typed object, and the single salesorder typed array.

Each entity's ``list_fields`` must cover its list schema's properties (but
for fields the sandbox never generates), list rows must stay within them,
and the detail fields must be in a GET and never in a list row. Price lists
have no GET: their items and changed lists are read through
``/pricebooks/items`` and ``/pricebooks/bulkfetch``, whose documented
response schemas hold only ``code`` and ``message``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

from tds.sandbox import SandboxConfig, SandboxServer
from tds.sandbox.documents import generate_all
from tds.sandbox.entities import SPECS
from tests.fixtures.sandbox import DETAIL_FIELDS, Books

# Zoho's documents live in the shared folder beside the checkout; CI lays it there.
SPEC_DIR = Path(os.environ.get(
    "TDS_ZOHO_OPENAPI_DIR", Path(__file__).resolve().parents[3] / "shared" / "zoho-openapi"
))
pytestmark = pytest.mark.skipif(
    not SPEC_DIR.exists(), reason=f"Zoho's OpenAPI documents are not at {SPEC_DIR}"
)
# (file, list path, get path template, list key, id field); the list key names the entity
ENDPOINTS = [
    ("items.yml", "/items", "/items/{item_id}", "items", "item_id"),
    ("contacts.yml", "/contacts", "/contacts/{contact_id}", "contacts", "contact_id"),
    ("invoices.yml", "/invoices", "/invoices/{invoice_id}", "invoices", "invoice_id"),
    ("bills.yml", "/bills", "/bills/{bill_id}", "bills", "bill_id"),
    ("credit-notes.yml", "/creditnotes", "/creditnotes/{creditnote_id}", "creditnotes",
     "creditnote_id"),
    ("sales-order.yml", "/salesorders", "/salesorders/{salesorder_id}", "salesorders",
     "salesorder_id"),
    ("organizations.yml", "/organizations", "/organizations/{organization_id}",
     "organizations", "organization_id"),
]
LISTS = [(name, path, key) for name, path, _, key, _ in ENDPOINTS if key in SPECS]
LISTS.append(("pricelists.yml", "/pricebooks", "pricebooks"))
# Documented on list rows but not sent there: price lists' items (the sheet).
WITHHELD = {"pricebooks": {"pricebook_items"}}
PRICEBOOK_ITEM = {
    "type": "object", "additionalProperties": False,
    "required": ["item_id", "name", "sku", "rate", "pricebook_rate", "pricing_scheme"],
    "properties": {
        "item_id": {"$ref": "#/components/schemas/item_id"}, "name": {"type": "string"},
        "sku": {"type": "string"}, "rate": {"type": "number"},
        "pricebook_rate": {"$ref": "#/components/schemas/pricebook_rate"},
        "pricing_scheme": {"$ref": "#/components/schemas/pricing_scheme"},
    },
}
# (file, path, envelope property, the container type real answers use)
QUIRKS = [
    ("invoices.yml", "/invoices", "page_context", "object"),
    ("credit-notes.yml", "/creditnotes", "creditnotes", "array"),
    ("sales-order.yml", "/salesorders/{salesorder_id}", "salesorder", "object"),
]


@cache
def document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text())
    return loaded


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def response_schema(name: str, path: str) -> dict[str, Any]:
    """The 200 schema of GET ``path``, quirks corrected, with the components to resolve refs."""
    doc = document(name)
    envelope = copy.deepcopy(_resolve(doc, doc["paths"][path]["get"]["responses"]["200"][
        "content"]["application/json"]["schema"]))
    for quirk_file, quirk_path, prop, container in QUIRKS:
        if (quirk_file, quirk_path) == (name, path):
            declared = _resolve(doc, envelope["properties"][prop])
            envelope["properties"][prop] = (
                {"type": "array", "items": declared} if container == "array"
                else _resolve(doc, declared["items"]))
    return {**envelope, "components": doc["components"]}


def row_schema(name: str, path: str, key: str) -> dict[str, Any]:
    """The schema of one row of GET ``path``'s ``key`` list, with the components."""
    envelope = response_schema(name, path)
    row = _resolve(envelope, _resolve(envelope, envelope["properties"][key])["items"])
    return {**row, "components": envelope["components"]}


def validate(body: Any, schema: dict[str, Any]) -> None:
    OAS30Validator(schema).validate(body)


@cache
def generated_fields(entity: str) -> frozenset[str]:
    """Every key any record of ``entity`` has in the served sandbox's data."""
    config = SandboxConfig()
    records = generate_all(config.seed, {name: getattr(config, name) for name in SPECS})
    return frozenset(key for record in records[entity] for key in record)


@pytest.fixture(scope="module")
def served() -> Iterator[Books]:
    """One default sandbox for the module, and one caller: a token per test would use
    up the refresh token's ten grants."""
    with SandboxServer() as server:
        yield Books(server)


@pytest.mark.parametrize(("name", "list_path", "get_path", "key", "id_field"), ENDPOINTS)
def test_list_and_get_match_the_schema(served: Books, name: str, list_path: str,
                                       get_path: str, key: str, id_field: str) -> None:
    listed = served.get(list_path, per_page=50)
    assert listed.status_code == 200
    body = listed.json()
    assert body[key]
    validate(body, response_schema(name, list_path))
    for record in body[key][:10]:
        one = served.get(get_path.replace("{" + id_field + "}", record[id_field]))
        assert one.status_code == 200
        validate(one.json(), response_schema(name, get_path))
        if key in SPECS:
            whole = one.json()[SPECS[key].single_key]
            assert set(DETAIL_FIELDS[key]) <= set(whole)
            assert set(record) < set(whole)


@pytest.mark.parametrize(("name", "list_path", "key"), LISTS)
def test_list_rows_are_list_schema_rows(served: Books, name: str, list_path: str,
                                        key: str) -> None:
    everyone = {"filter_by": "Status.All"} if SPECS[key].status_filter else {}
    rows = served.walk(list_path, key, **everyone)
    list_fields = set(SPECS[key].list_fields)
    for row in rows:
        assert set(row) <= list_fields
        assert not set(DETAIL_FIELDS[key]) & set(row)
    documented = set(row_schema(name, list_path, key)["properties"])
    never_generated = documented - generated_fields(key)
    assert documented - never_generated - WITHHELD.get(key, set()) <= list_fields


def test_pricebooks_bulkfetch_rows_are_list_rows(served: Books) -> None:
    body = served.get("/pricebooks/bulkfetch", filter_by="Status.All").json()
    validate(body, response_schema("pricelists.yml", "/pricebooks/bulkfetch"))
    assert (body["code"], body["message"]) == (0, "success")
    assert body["page_context"]["per_page"] == 200
    schema = row_schema("pricelists.yml", "/pricebooks", "pricebooks")
    for row in body["pricebooks"]:
        validate(row, schema)
        assert set(row) <= set(SPECS["pricebooks"].list_fields)
        assert "pricebook_items" not in row


def test_pricebook_items_rows(served: Books) -> None:
    components = document("pricelists.yml")["components"]
    for pricebook in served.get("/pricebooks").json()["pricebooks"]:
        body = served.get("/pricebooks/items", pricebook_id=pricebook["pricebook_id"]).json()
        validate(body, response_schema("pricelists.yml", "/pricebooks/items"))
        assert (body["code"], body["message"]) == (0, "success")
        assert body["pricebook_items"]
        for row in body["pricebook_items"]:
            validate(row, {**PRICEBOOK_ITEM, "components": components})


def test_validator_is_not_vacuous() -> None:
    schema = response_schema("items.yml", "/items")
    with pytest.raises(Exception, match="is not of type"):
        validate({"code": 0, "items": [{"item_id": "1", "rate": "cheap"}]}, schema)
