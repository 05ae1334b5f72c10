"""The `tds` command: steer and inspect a TDS installation.

Each command group is small and calls `tds` services; commands that
change data open one unit of work and commit at the end.
"""

from __future__ import annotations

import sys

import click

from tds.config import Settings, load_settings
from tds.errors import TDSError


class TDSGroup(click.Group):
    """Turns our own errors into a clear message and exit status 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TDSError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(1)


def current_settings() -> Settings:
    ctx = click.get_current_context()
    settings = ctx.find_object(Settings)
    if settings is None:
        settings = load_settings()
        ctx.obj = settings
    return settings


@click.group(cls=TDSGroup)
@click.version_option(package_name="tds")
def main() -> None:
    """TDS keeps a Postgres (or SQLite) database in step with Zoho Books.

    Configuration comes from the environment (DATABASE_URL, CELERY_BROKER_URL,
    REDIS_URL, ZOHO_*); `tds config show` prints what is in effect.
    """


def _register_commands() -> None:
    # Each module adds its commands to `main` when imported.
    from tds.cli import (  # noqa: F401
        config_commands,
        db_commands,
        queue_commands,
        run_commands,
        sandbox_commands,
        sync_commands,
        webhook_commands,
    )


_register_commands()
