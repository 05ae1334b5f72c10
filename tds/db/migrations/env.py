"""Alembic environment: our metadata, our engine settings, batch mode on SQLite."""

from __future__ import annotations

from alembic import context

from tds.db.models import Base
from tds.db.session import create_db_engine

config = context.config


def run_migrations() -> None:
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
