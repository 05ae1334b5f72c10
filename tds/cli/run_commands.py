"""`tds run`: start every process of the Procfile with honcho."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click

from tds.cli import current_settings, main

PROCESSES = ("web", "worker", "beat", "flower")
BANNER = """
==========================================================================
  NO ZOHO CREDENTIALS ARE SET: TDS IS RUNNING AGAINST THE BUILT-IN SANDBOX
  (a Zoho Books simulator on {url}). Nothing here reaches real Zoho.
  Set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and
  ZOHO_ORGANIZATION_ID to sync a real organization.
==========================================================================
"""


@main.command("run")
@click.option("--procfile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="Procfile", show_default=True, help="The Procfile to start.")
def run(procfile: Path) -> None:
    """Start the receiver, a worker, beat and Flower (and the sandbox when no
    Zoho credentials are set) in the foreground; Ctrl-C stops them all."""
    settings = current_settings()
    processes = list(PROCESSES)
    env = dict(os.environ)
    if settings.uses_sandbox:
        click.secho(BANNER.format(url=settings.zoho_accounts_url), fg="yellow", bold=True,
                    err=True)
        processes.append("sandbox")
        env["TDS_SANDBOX_WEBHOOK_SECRET"] = settings.webhook_secrets[0]
    for name in settings.generated:
        click.secho(f"{name} was generated for development; it is in "
                    f"{settings.var_dir / 'dev-secrets.env'}", fg="cyan", err=True)
    click.echo("web http://127.0.0.1:5000  flower http://127.0.0.1:5555  "
               "(health: /healthz, /readyz)", err=True)
    honcho = shutil.which("honcho")
    if honcho is None:
        raise click.ClickException("honcho is not installed; run `make run`, which installs it.")
    # Replace this process so Ctrl-C and signals reach honcho directly.
    os.execve(honcho, [honcho, "start", "-f", str(procfile), *processes], env)  # noqa: S606
