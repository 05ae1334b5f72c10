"""`tds config …`: what is configured, and whether it works."""

from __future__ import annotations

import json

import click
import redis
from sqlalchemy.exc import SQLAlchemyError

from tds.cli import current_settings, main
from tds.config import ConfigError
from tds.zoho import UnifiedZohoClient


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


# What to do about each problem a connection check can name.
_REMEDIES = {
    "credentials": "Check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (a client "
                   "and its tokens belong to one data centre: ZOHO_DC).",
    "scope": "Issue a new refresh token with the ZohoBooks scopes TDS needs "
             "(e.g. ZohoBooks.fullaccess.all) and set ZOHO_REFRESH_TOKEN.",
    "data_centre": "Set ZOHO_DC to the data centre the Zoho account lives in.",
    "organization": "Set ZOHO_ORGANIZATION_ID to one of the organizations listed above.",
    "network": "Check the network path to ZOHO_ACCOUNTS_URL and ZOHO_API_BASE_URL, then "
               "run the check again.",
    "rate_limit": "Wait a few minutes and run the check again; if it persists, look for other "
                  "apps using the same organization or refresh token.",
    "zoho": "Zoho failed; run the check again later and look at status.zoho.com.",
}


@config.command("test-credentials")
@click.pass_context
def config_test_credentials(ctx: click.Context) -> None:
    """Call Zoho once with the configured credentials and say whether they work.

    Gets an access token, lists the user's organizations and looks for
    ZOHO_ORGANIZATION_ID among them. Exit status 1 when something is wrong.
    """
    try:
        settings = current_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    if settings.uses_sandbox:
        click.secho("No Zoho credentials are set: checking the built-in SANDBOX, not Zoho.",
                    fg="yellow", err=True)
    try:
        client = UnifiedZohoClient.from_settings(settings)
        try:
            result = client.test_connection()
        finally:
            client.close()
    except (SQLAlchemyError, redis.RedisError) as error:
        # The shared token and rate budget live in the database (and Redis, when set).
        raise click.ClickException(
            f"The database or Redis holding the shared Zoho token and rate budget is not "
            f"usable ({type(error).__name__}): check DATABASE_URL and REDIS_URL, and run "
            "`tds db upgrade`.") from error
    if result.ok:
        click.secho("Zoho credentials: OK", fg="green")
        click.echo(result.message)
        click.echo(f"Organizations: {', '.join(result.organizations)}")
        return
    click.secho(f"Zoho credentials: PROBLEM ({result.problem})", fg="red")
    click.echo(result.message)
    if result.organizations:
        click.echo(f"Organizations: {', '.join(result.organizations)}")
    click.echo(f"What to do: {_REMEDIES.get(result.problem or 'zoho', _REMEDIES['zoho'])}")
    ctx.exit(1)
