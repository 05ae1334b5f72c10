"""`tds queue …` and `tds inbox replay`: inspect and steer the sync ledger.

These commands only change rows; the dispatcher (`tds.maintenance.dispatch_due`,
run by beat every sweeper interval) enqueues what they make due, so the CLI
needs neither Celery nor the broker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from sqlalchemy import select

from tds.cli import current_settings, main
from tds.db.models import InboxEvent, LedgerStatus, SyncQueueItem
from tds.db.session import Database
from tds.events import replay_events
from tds.ledger import QueueService


def _database() -> Database:
    return Database(current_settings().database_url)


def _when(seconds: int) -> str:
    return f"the dispatcher enqueues it within {seconds} s (TDS_SWEEPER_INTERVAL_SECONDS)"


@main.group()
def queue() -> None:
    """The sync ledger (tds_sync_queue): counts, dead letters, requeue."""


@queue.command("stats")
def queue_stats() -> None:
    """Rows per status, as JSON."""
    database = _database()
    with database.session() as session:
        click.echo(json.dumps(QueueService(session).get_queue_stats(), indent=2))


@queue.command("dead")
@click.option("--limit", default=50, show_default=True)
def queue_dead(limit: int) -> None:
    """List dead rows: id, entity, inbox event, attempts, last error."""
    database = _database()
    with database.session() as session:
        rows = QueueService(session).dead_items(limit)
        for row in rows:
            click.echo(f"{row.id}\t{row.entity}\tevent {row.inbox_event_id}\t"
                       f"{row.attempts} attempts\t{(row.error_message or '')[:120]}")
        if not rows:
            click.echo("no dead rows")


@queue.command("requeue")
@click.argument("item_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Requeue every dead row.")
def queue_requeue(item_id: int | None, all_dead: bool) -> None:
    """Give ITEM_ID (or every dead row) a fresh start as pending."""
    if (item_id is None) == (not all_dead):
        raise click.UsageError("give an ITEM_ID or --all-dead (not both).")
    settings = current_settings()
    database = _database()
    with database.session() as session:
        service = QueueService.from_settings(session, settings)
        if all_dead:
            rows = session.scalars(select(SyncQueueItem).where(
                SyncQueueItem.status == LedgerStatus.DEAD)).all()
            count = service.requeue(rows)
        elif service.requeue_failed_item(item_id or 0):
            count = 1
        else:
            raise click.ClickException(f"ledger row {item_id} does not exist or is neither "
                                       "dead nor failed.")
    click.echo(f"requeued {count} row(s); {_when(settings.sweeper_interval_seconds)}")


@main.group()
def inbox() -> None:
    """Webhook events stored by the receiver."""


@inbox.command("replay")
@click.argument("event_id", type=int, required=False)
@click.option("--since", type=click.DateTime(), help="Replay every event received since then "
              "(UTC).")
def inbox_replay(event_id: int | None, since: datetime | None) -> None:
    """Process EVENT_ID (or every event received since --since) again."""
    if (event_id is None) == (since is None):
        raise click.UsageError("give an EVENT_ID or --since (not both).")
    settings = current_settings()
    database = _database()
    with database.session() as session:
        if event_id is not None:
            ids = [event_id]
        else:
            moment = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
            ids = list(session.scalars(select(InboxEvent.id).where(
                InboxEvent.received_at >= moment)))
        count = replay_events(session, settings, ids)
    if event_id is not None and count == 0:
        raise click.ClickException(f"inbox event {event_id} does not exist.")
    click.echo(f"marked {count} event(s) for replay; {_when(settings.sweeper_interval_seconds)}")
