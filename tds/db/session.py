"""One engine and one sessionmaker per process, and the unit-of-work scope.

`tds` functions take a `Session` and never commit; the caller (a task, a
view, a CLI command) opens ``with database.session() as session:`` which
commits on success and rolls back on error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tds.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_db_engine(url: str, *, connect_timeout: float | None = None,
                     statement_timeout: float | None = None, **options: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL and a busy timeout. With the timeouts
    (seconds), connecting and each statement give up after them (on SQLite, waiting
    for the write lock does)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        busy_ms = int(statement_timeout * 1000) if statement_timeout else SQLITE_BUSY_TIMEOUT_MS
        engine = create_engine(url, connect_args={"timeout": busy_ms / 1000}, **options)
        event.listen(engine, "connect", lambda connection, _: _sqlite_pragmas(connection,
                                                                             busy_ms))
        # pysqlite's own transaction handling defers BEGIN; take it over so a
        # write transaction starts with BEGIN IMMEDIATE and never deadlocks.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options.setdefault("pool_pre_ping", True)
    options.setdefault("pool_size", 5)
    options.setdefault("max_overflow", 10)
    connect_args: dict[str, Any] = {}
    if connect_timeout:
        connect_args["connect_timeout"] = max(1, round(connect_timeout))
    if statement_timeout:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
    return create_engine(url, connect_args=connect_args, **options)


NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit = off")


def commit_without_flush_wait(session: Session) -> Connection:
    """Let the session's current transaction commit before its WAL reaches disk, on
    Postgres (SQLite already syncs lazily); returns the session's connection.

    Only for writes a crash may lose: Postgres then comes back as if the last such
    transactions had rolled back, never with part of one. A later durable commit
    flushes all WAL before it. SET LOCAL lasts the transaction; repeating it is harmless.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(NO_FLUSH_WAIT)
    return connection


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The process's engine and session factory."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.engine = create_db_engine(url, **engine_options)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def for_receiver(cls, settings: Settings) -> Database:
        """The receiver's: short connect and statement timeouts (a webhook's answer
        never waits long on the database), no ping per checkout (the view retries a
        store on a dropped connection)."""
        return cls(settings.database_url, pool_pre_ping=False,
                   connect_timeout=settings.db_connect_timeout_seconds,
                   statement_timeout=settings.db_statement_timeout_seconds)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, connection: Connection | None = None) -> Iterator[Session]:
        """A unit of work: commit when the block ends, roll back if it raises. On
        `connection` when given (several units in a row without a second checkout)."""
        session = self.sessionmaker(bind=connection) if connection is not None \
            else self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Drop pooled connections (after a fork, or at shutdown)."""
        self.engine.dispose()
