"""`tds webhooks register|list`: Zoho's webhooks for TDS, through Books' webhook API.

`register` creates or updates one webhook per entity and rule kind (Created or
Edited, Deleted) with TDS's secret, then prints the TDS_WEBHOOK_SECRET the receiver
needs and the workflow rules to make in Zoho's UI; `--dry-run` prints the plan
only. `list` shows what Zoho has and whether it is what TDS wants.
"""

from __future__ import annotations

import click

from tds.cli import current_settings, main
from tds.config import Settings
from tds.db.session import Database
from tds.webhook_registry import (
    Step,
    apply,
    differences,
    existing_webhooks,
    plan,
    wanted_webhooks,
    workflow_steps,
)
from tds.webhook_secrets import webhook_secret
from tds.zoho import UnifiedZohoClient

URL_HELP = ("The receiver's public address, e.g. https://tds.example.com (the webhook "
            "path /api/zoho/webhooks/<entity> is added).")


@main.group()
def webhooks() -> None:
    """Zoho's webhooks for TDS: register them, list them."""


@webhooks.command("register")
@click.option("--url", required=True, help=URL_HELP)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--rotate-secret", is_flag=True,
              help="Give the webhooks a new secret (the receiver must accept both first).")
def register(url: str, dry_run: bool, rotate_secret: bool) -> None:
    """Create or update TDS's webhooks in Zoho (safe to run again)."""
    settings = current_settings()
    wanted = wanted_webhooks(settings, url)
    database = Database(settings.database_url)
    client = UnifiedZohoClient(settings, database)
    try:
        steps = plan(wanted, existing_webhooks(client))
        for step in steps:
            click.echo(_describe(step))
        if dry_run:
            click.echo("(dry run: nothing was changed)")
        else:
            with database.session() as session:  # stored before Zoho holds it
                secret = webhook_secret(session, rotate=rotate_secret)
            apply(client, steps, secret)
            click.secho(f"Zoho has TDS's {len(wanted)} webhooks.", fg="green")
            _say_secret(settings, secret)
    finally:
        client.close()
        database.dispose()
    for line in workflow_steps(wanted):
        click.echo(line)


@webhooks.command("list")
@click.option("--url", help=URL_HELP + " Given, each webhook is compared with TDS's.")
def list_webhooks(url: str | None) -> None:
    """Show the webhooks Zoho has, and whether they are what TDS wants."""
    settings = current_settings()
    database = Database(settings.database_url)
    client = UnifiedZohoClient(settings, database)
    try:
        existing = existing_webhooks(client)
    finally:
        client.close()
        database.dispose()
    wanted = {webhook.name: webhook for webhook in wanted_webhooks(settings, url)} if url \
        else {}
    for found in existing:
        name = str(found.get("webhook_name"))
        verdict = "not TDS's" if not name.startswith("tds-") else "TDS's"
        if name in wanted:
            differs = differences(wanted.pop(name), found)
            verdict = f"differs: {', '.join(differs)}" if differs else "matches"
        query = "&".join(f"{pair.get('param_name')}={pair.get('param_value')}"
                         for pair in found.get("query_parameters") or [])
        click.echo(f"{found.get('webhook_id')}\t{name}\t{found.get('entity')}\t"
                   f"{found.get('method')} {found.get('url')}{'?' + query if query else ''}"
                   f"\t{verdict}")
    for name in wanted:
        click.echo(f"-\t{name}\tmissing: run `tds webhooks register --url {url}`")
    if not existing and not wanted:
        click.echo("Zoho has no webhooks.")


def _describe(step: Step) -> str:
    if step.action == "create":
        return f"create {step.name}"
    if step.action == "delete":
        return f"delete {step.name} ({step.webhook_id}): a second webhook of the same name"
    changed = f"differs: {', '.join(step.differs)}" if step.differs else "fields match"
    return f"update {step.name} ({step.webhook_id}): {changed}; its secret is given again"


def _say_secret(settings: Settings, secret: str) -> None:
    if secret in settings.webhook_secrets:
        click.echo("TDS_WEBHOOK_SECRET already accepts the webhooks' secret.")
        return
    # The secrets accepted now stay, for deliveries Zoho signed before and other senders.
    accepted = [secret, *settings.webhook_secrets]
    click.secho("The receiver must accept the webhooks' secret: set, then restart the web "
                f"process:\n  TDS_WEBHOOK_SECRET={','.join(accepted)}", fg="yellow")
