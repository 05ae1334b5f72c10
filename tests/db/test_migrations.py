"""The migrations build exactly the models' schema, on SQLite and Postgres."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tds.db.models import Base
from tds.db.session import Database


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_every_table_of_the_design_exists(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {
        "tds_inbox_events", "tds_sync_queue", "tds_sync_state", "tds_oauth_tokens",
        "products", "customers", "invoices", "bills", "credit_notes", "stock_levels",
        "price_lists", "price_list_items", "sales_orders",
    } <= tables


def test_the_seed_health_query_works_as_written(database: Database) -> None:
    with database.session() as session:
        session.execute(text(
            "INSERT INTO tds_sync_queue (unit_key, kind, entity, payload, status, attempts,"
            " max_attempts) VALUES ('event:1', 'event', 'products', '{}', 'pending', 0, 8)"
        ))
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status, COUNT(*) FROM tds_sync_queue GROUP BY status;")
        ).all()
    assert [tuple(row) for row in rows] == [("pending", 1)]


def test_the_dedup_key_is_unique(database: Database) -> None:
    inspector = inspect(database.engine)
    constraints = inspector.get_unique_constraints("tds_inbox_events")
    unique_columns: list[list[str | None]] = [list(c["column_names"]) for c in constraints]
    unique_columns += [
        list(index["column_names"]) for index in inspector.get_indexes("tds_inbox_events")
        if index["unique"]
    ]
    assert ["dedup_key"] in unique_columns
