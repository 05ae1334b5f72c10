"""Bulk pages whose documents Postgres reads from the Zoho answer's own text.

A :class:`SourcePage` carries the JSON text its documents were decoded from;
the page upsert then sends each row's position instead of its document.
Whatever path a document takes, the stored row must be the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tds.db import write
from tds.db.models import Customer, DocumentKind, Product
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.pages import SourcePage

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
PAGE_SIZE = 80  # over the bulk writer's threshold


def item(index: int, **fields: Any) -> dict[str, Any]:
    return {"item_id": f"9{index:05d}", "name": f"Widget {index} — «ü»", "rate": 12.5,
            "sku": f"W-{index}", "last_modified_time": "2026-11-01T02:00:00-0800",
            "custom_fields": [{"label": "shelf", "value": index}], "tags": [], **fields}


def source_page(documents: list[dict[str, Any]], list_key: str = "items") -> SourcePage:
    """What the Zoho client yields: the answer's text and the list decoded from it."""
    answer = json.dumps({"code": 0, "message": "success", list_key: documents,
                         "page_context": {"page": 1, "has_more_page": False}})
    return SourcePage(json.loads(answer)[list_key], answer, list_key)


def stored_documents(database: Database, model: Any, organization_id: str) -> dict[str, Any]:
    with database.session() as session:
        return dict(session.execute(select(model.zoho_id, model.document)
                                    .where(model.organization_id == organization_id)).all())


def test_documents_from_the_answer_are_stored_as_decoded(database: Database) -> None:
    documents = [item(index) for index in range(PAGE_SIZE)]
    documents[3]["weights"] = [1e20, 12345678901234567890123, 0.1]  # numbers keep their value
    documents[4]["description"] = 'quotes " and \\ backslashes, 𝄞 and \u2028'
    page = source_page(documents)
    with database.session() as session:
        assert BY_NAME["products"].write(session, "org1", page, DocumentKind.SUMMARY) == PAGE_SIZE
    assert stored_documents(database, Product, "org1") == {
        document["item_id"]: document for document in json.loads(page.text)["items"]}


def test_positions_count_the_documents_an_entity_skips(database: Database) -> None:
    # Vendors share the contacts list; skipping them must not shift the positions.
    contacts = [{"contact_id": f"7{index:04d}", "contact_name": f"Party {index}",
                 "contact_type": "vendor" if index % 3 == 0 else "customer",
                 "last_modified_time": "2026-11-01T02:00:00-0800"}
                for index in range(PAGE_SIZE * 2)]
    page = source_page(contacts, "contacts")
    with database.session() as session:
        BY_NAME["customers"].write(session, "org1", page, DocumentKind.SUMMARY)
    assert stored_documents(database, Customer, "org1") == {
        contact["contact_id"]: contact for contact in contacts
        if contact["contact_type"] == "customer"}


def test_the_newest_of_two_copies_in_one_page_keeps_its_own_document(
        database: Database) -> None:
    documents = [item(index) for index in range(PAGE_SIZE)]
    documents.append(item(5, name="newer copy", last_modified_time="2026-11-01T03:00:00-0800"))
    with database.session() as session:
        BY_NAME["products"].write(session, "org1", source_page(documents),
                                  DocumentKind.SUMMARY)
    assert stored_documents(database, Product, "org1")["900005"]["name"] == "newer copy"


@pytest.mark.postgres
def test_a_page_mixing_source_and_other_documents_stores_each_rows_own(
        postgres_url: str) -> None:
    database = Database(postgres_url)
    page = source_page([item(index) for index in range(4)])
    rows = [{"organization_id": "org-mixed", "zoho_id": str(index), "name": f"row {index}",
             "last_modified_time": T0 + timedelta(minutes=index), "deleted_at": None,
             "document": page[index] if index < 4 else {"made": "here", "index": index}}
            for index in range(8)]
    table: Any = Product.__table__
    try:
        with Session(database.engine) as session, session.begin():
            assert write.write_rows(session, table, rows, skip_unchanged=True, source=page) == 8
        stored = stored_documents(database, Product, "org-mixed")
        assert stored == {str(index): rows[index]["document"] for index in range(8)}
    finally:
        with database.engine.begin() as connection:
            connection.execute(text("DELETE FROM products WHERE organization_id = 'org-mixed'"))
        database.dispose()


def test_the_answer_path_stores_what_the_encoded_path_stores(database: Database) -> None:
    documents = [item(index, rate=index * 1.25, stock_on_hand=str(index))
                 for index in range(PAGE_SIZE)]
    products = BY_NAME["products"]
    with database.session() as session:
        products.write(session, "from-answer", source_page(documents), DocumentKind.SUMMARY)
        products.write(session, "encoded", [dict(document) for document in documents],
                       DocumentKind.SUMMARY)
    columns = [column.name for column in Product.__table__.c
               if column.name not in {"id", "organization_id", "synced_at"}]
    with database.session() as session:
        def rows(organization_id: str) -> list[tuple[Any, ...]]:
            query = select(*(Product.__table__.c[name] for name in columns)).where(
                Product.organization_id == organization_id).order_by(Product.zoho_id)
            return [tuple(row) for row in session.execute(query)]
        assert rows("from-answer") == rows("encoded")
        assert len(rows("encoded")) == PAGE_SIZE
