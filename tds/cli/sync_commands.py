"""`tds sync ENTITY|all [--full|--reconcile]`: sync in the foreground, resumable.

A pass is the same ledger row a worker would run: started anew or, when one is
open (a run cut short), resumed from its checkpoint. Transient failures are
retried on the tasks' own policy, so the CLI finishes what a worker finishes; a
wait for one of Zoho's limits is shown, not silent.
"""

from __future__ import annotations

import sys
import time

import click

from tds import passes
from tds.cli import current_settings, main
from tds.cli.progress import Progress
from tds.config import Settings
from tds.db.models import LedgerStatus
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.retry import hinted_wait
from tds.sync import SyncReport
from tds.sync_state import state_of
from tds.zoho import UnifiedZohoClient

# Customers and items first, so documents that name them find them already there.
SYNC_ORDER = ("customers", "products", "stock", "prices", "invoices", "bills", "credit_notes")
WAITS_UP_TO_SECONDS = 900.0  # longer (the day's quota): stop, and resume on the next run
EX_TEMPFAIL = 75  # sysexits: try again later


@main.command("sync")
@click.argument("entity", type=click.Choice(sorted(["all", *BY_NAME])))
@click.option("--full", "mode", flag_value="full", help="Every record, not just the changes.")
@click.option("--reconcile", "mode", flag_value="reconcile",
              help="A full pass that also soft-deletes records Zoho no longer has.")
def sync_command(entity: str, mode: str | None) -> None:
    """Sync ENTITY (or `all`, in a sensible order) from Zoho now, showing progress.

    Without options: the changes since the stored cursor (a full pass the first
    time, and for entities Zoho cannot filter by modification time). A pass cut
    short (Ctrl-C, a crash, the day's quota) resumes where it stopped the next
    time it runs, here or in a worker. Exit status 75 means Zoho's daily quota
    is spent: run it again after the reset.
    """
    settings = current_settings().with_overrides(zoho_budget_wait_seconds=WAITS_UP_TO_SECONDS)
    database = Database(settings.database_url)
    client = UnifiedZohoClient(settings, database)
    try:
        for name in SYNC_ORDER if entity == "all" else (entity,):
            report = _sync_one(database, client, settings, name, mode or "incremental")
            click.echo(f"{name}: {report.seen} records read in {report.pages} pages, "
                       f"{report.written} written, {report.details} fetched in full, "
                       f"{report.deleted} marked deleted; cursor "
                       f"{report.cursor.isoformat() if report.cursor else '-'}")
    finally:
        client.close()
        database.dispose()


def _sync_one(database: Database, client: UnifiedZohoClient, settings: Settings,
              entity: str, mode: str) -> SyncReport:
    with database.session() as session:
        item_id, created = passes.open_pass(session, settings, entity, mode)
        total = state_of(session, settings.zoho_organization_id, entity).details.get("records")
    if not created:
        click.echo(f"{entity}: resuming the open {mode} pass", err=True)
    progress = Progress(f"{mode} sync of {entity}", total)
    client.on_wait = progress.waiting
    try:
        return _run_to_end(database, client, settings, item_id, progress)
    finally:
        progress.done()


def _run_to_end(database: Database, client: UnifiedZohoClient, settings: Settings,
                item_id: int, progress: Progress) -> SyncReport:
    """Run the pass until it ends; on a failure, wait as the retry policy says and resume."""
    while True:
        try:
            report = passes.run_pass(database, client, settings, item_id, take_over_dead=True,
                                     progress=progress.update)
        except Exception as error:
            with database.session() as session:
                failure = passes.queue_for(session, settings).record_failure(item_id, error)
            if failure is None or failure.status == LedgerStatus.DEAD:
                raise
            wait = failure.retry_in if failure.retry_in is not None else failure.resume_in
            assert wait is not None
            if wait > WAITS_UP_TO_SECONDS:
                click.secho(f"\n{failure.message}\nThe pass keeps its place; run the same "
                            "command after the reset to finish it.", fg="yellow", err=True)
                sys.exit(EX_TEMPFAIL)
            progress.waiting(failure.message, wait)
            # Tests switch backoff sleeps off; a wait Zoho asked for stays.
            if hinted_wait(error) is not None or not settings.testing:
                time.sleep(wait)
            continue
        if report is None:
            raise click.ClickException(
                "Another process holds this pass (a worker, or another `tds sync`); it "
                "finishes it. See `tds queue stats`.")
        return report
