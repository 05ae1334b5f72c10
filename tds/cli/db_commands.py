"""`tds db …`: the schema."""

from __future__ import annotations

import click

from tds.cli import current_settings, main
from tds.db import migrate


@main.group()
def db() -> None:
    """Create or migrate the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migrate to this revision.")
def db_upgrade(revision: str) -> None:
    """Apply the migrations to DATABASE_URL (safe to run repeatedly)."""
    settings = current_settings()
    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {settings.masked()['database_url']} is at revision {revision}")
