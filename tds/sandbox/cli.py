"""``tds sandbox serve``: run the Zoho Books simulator in the foreground."""

from __future__ import annotations

import click

from tds.sandbox.config import SandboxConfig
from tds.sandbox.server import serve_forever

DEFAULTS = SandboxConfig()


@click.command("serve")
@click.option("--host", default=DEFAULTS.host, show_default=True, help="Interface to bind.")
@click.option("--port", default=DEFAULTS.port, show_default=True, type=int,
              help="Port to bind (TDS's sandbox default).")
@click.option("--client-id", default=DEFAULTS.client_id, show_default=True,
              help="OAuth client id the token endpoint accepts.")
@click.option("--client-secret", default=DEFAULTS.client_secret, show_default=True,
              help="OAuth client secret the token endpoint accepts.")
@click.option("--refresh-token", default=DEFAULTS.refresh_token, show_default=True,
              help="The one refresh token that is granted access tokens.")
@click.option("--organization-id", default=DEFAULTS.organization_id, show_default=True,
              help="The organization every Books call must name.")
@click.option("--items", default=DEFAULTS.items, show_default=True, help="Items to generate.")
@click.option("--contacts", default=DEFAULTS.contacts, show_default=True,
              help="Contacts to generate (one in four is a vendor).")
@click.option("--invoices", default=DEFAULTS.invoices, show_default=True,
              help="Invoices to generate.")
@click.option("--bills", default=DEFAULTS.bills, show_default=True, help="Bills to generate.")
@click.option("--creditnotes", default=DEFAULTS.creditnotes, show_default=True,
              help="Credit notes to generate.")
@click.option("--pricebooks", default=DEFAULTS.pricebooks, show_default=True,
              help="Price lists to generate.")
@click.option("--rate-limit-per-min", default=DEFAULTS.rate_limit_per_min, show_default=True,
              help="API calls per minute per organization before 429.")
@click.option("--daily-limit", default=DEFAULTS.daily_limit, show_default=True,
              help="API calls per day per organization before 429 (code 45).")
@click.option("--token-ttl", default=DEFAULTS.token_ttl, show_default=True,
              help="Seconds an access token lives.")
@click.option("--seed", default=DEFAULTS.seed, show_default=True,
              help="Seed of the data generator: same seed, same data.")
@click.option("--webhook-url", default=None,
              help="Receiver base URL, e.g. http://127.0.0.1:5000/api/zoho/webhooks; "
                   "/<entity> is appended. Unset: no webhooks.")
@click.option("--webhook-secret", default=None, help="Secret to sign webhooks with.")
@click.option("--webhook-scheme", type=click.Choice(["zoho", "standard"]),
              default=DEFAULTS.webhook_scheme, show_default=True,
              help="Signature scheme: Zoho's X-Zoho-Webhook-Signature or Standard Webhooks.")
@click.option("--deleted-webhook", type=click.Choice(["method", "param", "none"]),
              default=DEFAULTS.deleted_webhook, show_default=True,
              help="How deletions are announced: method = a DELETE request; param = a POST "
                   "with ?<action-param>=deleted (edits then carry =edited); none = not at all.")
@click.option("--action-param", default=DEFAULTS.action_param, show_default=True,
              help="Query parameter naming the action when --deleted-webhook=param.")
@click.option("--webhook-payload", type=click.Choice(["record", "id"]),
              default=DEFAULTS.webhook_payload, show_default=True,
              help="Body of a change webhook: the whole record, or only its id.")
@click.option("--stock-moves-stamp/--no-stock-moves-stamp", default=DEFAULTS.stock_moves_stamp,
              show_default=True,
              help="Whether an inventory adjustment moves its items' last_modified_time. "
                   "Off: stock changes with the stamp unchanged and no item webhook, as Zoho "
                   "may do on a sale or bill; a sync must compare the stock values.")
@click.option("--latency-ms", default=DEFAULTS.latency_ms, show_default=True,
              help="Delay added to every API call.")
@click.option("--error-rate", default=DEFAULTS.error_rate, show_default=True,
              help="Share of API calls answered 500 (0..1).")
@click.option("--time-factor", default=DEFAULTS.time_factor, show_default=True,
              help="Divides the limit windows: 60 turns 100/min into 100/s.")
@click.option("--changes-per-second", default=0.0, show_default=True,
              help="Edit random records at this rate, emitting webhooks (0: off).")
@click.option("--changes-duration", default=0.0, show_default=True,
              help="Seconds to keep editing (0: until the sandbox stops).")
def serve(changes_per_second: float, changes_duration: float, **options: object) -> None:
    """Serve a simulated Zoho Books organization: OAuth, the Books API, limits,
    faults and signed webhooks. Stop it with Ctrl-C."""
    config = SandboxConfig(**options)  # type: ignore[arg-type]
    click.echo(f"Zoho Books sandbox on http://{config.host}:{config.port} "
               f"(organization {config.organization_id}, seed {config.seed})")
    serve_forever(config, changes_per_second, changes_duration or None)
