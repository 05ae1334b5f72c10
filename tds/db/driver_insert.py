"""A single-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` run on the driver.

The webhook receiver inserts one inbox row per request. Measured there,
SQLAlchemy's session, compilation and result handling cost several times
what the driver spends on the insert itself. :class:`DriverInsert` renders
the statement once per dialect, converts values with the columns' own bind
processors (so rows read back exactly as if the ORM had written them), and
runs it on a pooled DBAPI connection in a transaction of its own. Driver
errors come out as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`, and a
dropped connection is invalidated, as SQLAlchemy itself would do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError


class DriverInsert:
    """Insert one row of `columns` into `table` unless `conflict_column` matches a row."""

    def __init__(self, table: Table, columns: Sequence[str], conflict_column: str,
                 returning: str, dialect: Dialect) -> None:
        # psycopg2 takes %(name)s; sqlite3 takes :name whatever SQLAlchemy's paramstyle.
        marker = "%({})s" if dialect.paramstyle == "pyformat" else ":{}"
        preparer = dialect.identifier_preparer
        # Identifiers come from the table and are quoted; values travel as parameters.
        self.sql = (
            f"INSERT INTO {preparer.format_table(table)} "  # noqa: S608
            f"({', '.join(preparer.quote(name) for name in columns)}) "
            f"VALUES ({', '.join(marker.format(name) for name in columns)}) "
            f"ON CONFLICT ({preparer.quote(conflict_column)}) DO NOTHING "
            f"RETURNING {preparer.quote(returning)}"
        )
        self.columns = tuple(columns)
        # One statement is its own transaction: on psycopg2 autocommit saves the BEGIN and
        # COMMIT round trips. (The SQLite connections run in autocommit mode already.)
        self.autocommit = dialect.driver == "psycopg2"
        self.processors: dict[str, Callable[[Any], Any]] = {}
        for name in columns:
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def __call__(self, engine: Engine, values: Mapping[str, Any]) -> Any | None:
        """Insert and commit; the new row's `returning` value, or None when the conflict
        column matched an existing row."""
        parameters = {name: values[name] for name in self.columns}
        for name, processor in self.processors.items():
            parameters[name] = processor(parameters[name])
        dbapi_error = engine.dialect.loaded_dbapi.Error
        try:
            connection = engine.raw_connection()
        except dbapi_error as error:  # the pool does not wrap a failed connect
            raise DBAPIError.instance(self.sql, parameters, error, dbapi_error,
                                      dialect=engine.dialect) from error
        cursor = None
        try:
            if self.autocommit:
                connection.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            cursor = connection.cursor()
            cursor.execute(self.sql, parameters)
            row = cursor.fetchone()
            connection.commit()
        except dbapi_error as error:
            dropped = engine.dialect.is_disconnect(error, connection.dbapi_connection, cursor)
            if dropped:
                connection.invalidate(error)
                # Its pooled siblings went with the same server: start a fresh pool.
                engine.dispose()
            raise DBAPIError.instance(self.sql, parameters, error, dbapi_error,
                                      connection_invalidated=dropped,
                                      dialect=engine.dialect) from error
        finally:
            if self.autocommit and connection.is_valid:
                connection.dbapi_connection.autocommit = False  # type: ignore[union-attr]
            connection.close()  # back to the pool (rolled back if the commit never came)
        return None if row is None else row[0]
