"""`tds sync ENTITY [--full|--reconcile]`: sync one entity in the foreground."""

from __future__ import annotations

import click

from tds import sync
from tds.cli import current_settings, main
from tds.db.session import Database
from tds.entities import BY_NAME, entity_named
from tds.zoho import UnifiedZohoClient


def _shown(report: sync.SyncReport | None) -> str | None:
    return f"{report.seen} records" if report is not None else None


@main.command("sync")
@click.argument("entity", type=click.Choice(sorted(BY_NAME)))
@click.option("--full", "mode", flag_value="full", help="Every record, not just the changes.")
@click.option("--reconcile", "mode", flag_value="reconcile",
              help="A full pass that also soft-deletes records Zoho no longer has.")
def sync_command(entity: str, mode: str | None) -> None:
    """Sync ENTITY from Zoho now, a page per transaction, showing progress.

    Without options: the changes since the stored cursor (a full pass the first
    time, and for entities Zoho cannot filter by modification time).
    """
    settings = current_settings()
    known = entity_named(entity)
    database = Database(settings.database_url)
    client = UnifiedZohoClient(settings, database)
    try:
        run_mode = mode or "incremental"
        params = (sync.incremental_params(database, known, settings.zoho_organization_id)
                  if run_mode == "incremental" else None)
        reports = sync.iter_sync(database, client, known, settings.zoho_organization_id,
                                 run_mode, params, details=entity in settings.fetch_details)
        report: sync.SyncReport | None = None
        with click.progressbar(reports, label=f"{run_mode} sync of {entity}",
                               item_show_func=_shown, show_pos=True) as bar:
            for page_report in bar:
                report = page_report
    finally:
        client.close()
        database.dispose()
    if report is not None:
        click.echo(f"{entity}: {report.seen} records read in {report.pages} pages, "
                   f"{report.written} written, {report.details} fetched in full, "
                   f"{report.deleted} marked deleted; "
                   f"cursor {report.cursor.isoformat() if report.cursor else '-'}")
