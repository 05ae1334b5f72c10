"""Sandbox answers validate against Zoho's published OpenAPI response schemas.

Uses openapi-schema-validator (OpenAPI 3.0 dialect) on the 200 schema of
each list and get operation. Three documented-container mistakes in Zoho's
files are corrected first, each to what real answers send (see the
zoho-openapi README): invoices' page_context typed array, creditnotes'
list typed object, and the single salesorder typed array.
"""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

from tds.sandbox import SandboxServer
from tests.fixtures.sandbox import Books

# Zoho's documents live in the shared folder beside the checkout; CI lays it there.
SPEC_DIR = Path(os.environ.get(
    "TDS_ZOHO_OPENAPI_DIR", Path(__file__).resolve().parents[3] / "shared" / "zoho-openapi"
))
pytestmark = pytest.mark.skipif(
    not SPEC_DIR.exists(), reason=f"Zoho's OpenAPI documents are not at {SPEC_DIR}"
)
# (file, list path, get path template, list key, id field)
ENDPOINTS = [
    ("items.yml", "/items", "/items/{item_id}", "items", "item_id"),
    ("contacts.yml", "/contacts", "/contacts/{contact_id}", "contacts", "contact_id"),
    ("invoices.yml", "/invoices", "/invoices/{invoice_id}", "invoices", "invoice_id"),
    ("bills.yml", "/bills", "/bills/{bill_id}", "bills", "bill_id"),
    ("credit-notes.yml", "/creditnotes", "/creditnotes/{creditnote_id}", "creditnotes",
     "creditnote_id"),
    ("sales-order.yml", "/salesorders", "/salesorders/{salesorder_id}", "salesorders",
     "salesorder_id"),
    # Zoho documents no GET of a single price list, and the sandbox serves none.
    ("pricelists.yml", "/pricebooks", None, "pricebooks", "pricebook_id"),
    ("organizations.yml", "/organizations", "/organizations/{organization_id}",
     "organizations", "organization_id"),
]
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


def validate(body: Any, schema: dict[str, Any]) -> None:
    OAS30Validator(schema).validate(body)


@pytest.fixture(scope="module")
def served() -> Any:
    with SandboxServer() as server:
        yield server


@pytest.mark.parametrize(("name", "list_path", "get_path", "key", "id_field"), ENDPOINTS)
def test_list_and_get_match_the_schema(served: SandboxServer, name: str, list_path: str,
                                       get_path: str | None, key: str, id_field: str) -> None:
    books = Books(served)
    listed = books.get(list_path, per_page=50)
    assert listed.status_code == 200
    body = listed.json()
    assert body[key]
    validate(body, response_schema(name, list_path))
    if get_path is None:
        return
    for record in body[key][:10]:
        one = books.get(get_path.replace("{" + id_field + "}", record[id_field]))
        assert one.status_code == 200
        validate(one.json(), response_schema(name, get_path))


def test_validator_is_not_vacuous() -> None:
    schema = response_schema("items.yml", "/items")
    with pytest.raises(Exception, match="is not of type"):
        validate({"code": 0, "items": [{"item_id": "1", "rate": "cheap"}]}, schema)
