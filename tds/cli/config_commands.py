"""`tds config …`: what is configured, and whether it works."""

from __future__ import annotations

import json

import click

from tds.cli import current_settings, main
from tds.config import ConfigError


@main.group()
def config() -> None:
    """Show and check the configuration."""


@config.command("show")
def config_show() -> None:
    """Print the settings in effect, secrets masked, as JSON."""
    try:
        settings = current_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    click.echo(json.dumps(settings.masked(), indent=2))
    if settings.uses_sandbox:
        click.secho("No Zoho credentials are set: TDS talks to the built-in SANDBOX, not Zoho.",
                    fg="yellow", err=True)
