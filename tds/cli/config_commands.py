"""`tds config …`: what is configured, and whether it works."""

from __future__ import annotations

import json

import click
import redis
from sqlalchemy.exc import SQLAlchemyError

from tds.cli import current_settings, main
from tds.config import ConfigError, Settings
from tds.db.session import Database
from tds.plan import Plan, make_plan
from tds.sync_state import states_of
from tds.zoho import UnifiedZohoClient
from tds.zoho.ratelimit import make_budget


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
    plan = _plan(settings)
    click.echo(json.dumps({**settings.masked(), "schedule": plan.to_json()}, indent=2))
    click.echo("Schedule (tds.plan), calls a day per job:", err=True)
    for line in plan.describe():
        click.echo(line, err=True)
    if settings.uses_sandbox:
        click.secho("No Zoho credentials are set: TDS talks to the built-in SANDBOX, not Zoho.",
                    fg="yellow", err=True)


def _plan(settings: Settings) -> Plan:
    """The plan from what the database knows (record counts, Zoho's limit), else from
    the settings alone."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            states = states_of(session, settings.zoho_organization_id)
        quota = make_budget(settings, database, _redis(settings)).day_quota()
        return make_plan(settings, states, quota.limit if quota.from_zoho else None)
    except (SQLAlchemyError, redis.RedisError):
        click.secho("(the database is not reachable or not migrated: the plan assumes "
                    "one page per entity)", fg="yellow", err=True)
        return make_plan(settings, {})
    finally:
        database.dispose()


def _redis(settings: Settings) -> redis.Redis | None:
    return redis.Redis.from_url(settings.redis_url) if settings.redis_url else None


@config.command("test-credentials")
@click.pass_context
def config_test_credentials(ctx: click.Context) -> None:
    """Call Zoho once with the configured credentials and say whether they work.

    Gets an access token, lists the user's organizations and looks for
    ZOHO_ORGANIZATION_ID among them, naming the part that is wrong: network,
    client, refresh_token, data_centre, scope or organization. Exit status 1 when
    something is wrong.
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
    click.echo("Parts: " + ", ".join(f"{part} {verdict}"
                                     for part, verdict in result.parts.items()))
    if result.organizations:
        click.echo(f"Organizations: {', '.join(result.organizations)}")
    click.echo(f"What to do: {result.remedy}")
    ctx.exit(1)
