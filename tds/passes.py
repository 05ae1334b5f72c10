"""Sync passes as ledger work: one ``tds_sync_queue`` row per pass, holding its checkpoint.

:func:`open_pass` finds the open pass of an entity and mode, or makes one, so a
second request joins the first instead of stacking another. :func:`run_pass`
claims it, runs it from its checkpoint (saved, and the claim's lease renewed,
after every page) and completes it. A pass cut short by a fault, a crash or the
day's quota resumes where it stood, whether the CLI or a worker runs it next;
its failures are recorded by the ledger's retry policy like any work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tds.config import Settings
from tds.db.models import LedgerStatus, SyncQueueItem
from tds.db.session import Database, commit_without_flush_wait
from tds.entities import ZohoReader, entity_named
from tds.ledger import QueueService
from tds.ledger.service import SYNC_KIND
from tds.logs import correlated, new_correlation_id
from tds.plan import due_jobs, make_plan
from tds.processes import local_process_gone, this_process
from tds.sync import MODES, Checkpoint, SyncReport, iter_sync
from tds.sync_state import state_of, states_of

log = logging.getLogger("tds.passes")
# Statuses of a pass still to finish (any other is completed or dead).
OPEN_STATUSES = (LedgerStatus.PENDING, LedgerStatus.PROCESSING, LedgerStatus.WAITING,
                 LedgerStatus.FAILED)


@dataclass(frozen=True)
class ClaimedPass:
    """A pass this process holds: its ledger row, entity, mode and where it stands."""

    item_id: int
    entity: str
    mode: str
    checkpoint: Checkpoint | None
    correlation_id: str | None


def queue_for(session: Session, settings: Settings) -> QueueService:
    """The ledger, with a pass's lease (renewed after every page)."""
    queue = QueueService.from_settings(session, settings)
    queue.lease = timedelta(seconds=settings.pass_lease_seconds)
    return queue


def open_pass(session: Session, settings: Settings, entity: str, mode: str) -> tuple[int, bool]:
    """The open pass of `entity` in `mode` (its ledger id, and False), else a new pending
    one (True). Creators of one entity's passes take turns on its state row."""
    if mode not in MODES:
        raise ValueError(f"a pass is one of {', '.join(MODES)}, not {mode!r}")
    state_of(session, settings.zoho_organization_id, entity_named(entity).name)
    found = session.scalar(
        select(SyncQueueItem.id).where(SyncQueueItem.kind == SYNC_KIND,
                                       SyncQueueItem.unit_key.startswith(f"pass:{entity}:{mode}:"),
                                       SyncQueueItem.status.in_(OPEN_STATUSES))
        .order_by(SyncQueueItem.id).limit(1))
    if found is not None:
        return found, False
    queue = queue_for(session, settings)
    item = SyncQueueItem(
        unit_key=f"pass:{entity}:{mode}:{uuid.uuid4().hex}", kind=SYNC_KIND, entity=entity,
        organization_id=settings.zoho_organization_id, payload={"mode": mode},
        correlation_id=new_correlation_id(), status=LedgerStatus.PENDING, attempts=0,
        max_attempts=queue.max_attempts,
        # Whoever opened it runs it now; the dispatcher steps in only if that fails.
        next_retry_at=datetime.now(UTC) + queue.grace)
    session.add(item)
    session.flush()
    return item.id, True


def open_due(session: Session, settings: Settings, daily_limit: int | None) -> list[int]:
    """Open the passes the schedule's plan says are due (one that is open already runs
    or waits its turn); the new passes' ledger ids."""
    states = states_of(session, settings.zoho_organization_id)
    plan = make_plan(settings, states, daily_limit)
    opened = []
    for job in due_jobs(plan, settings, states):
        item_id, created = open_pass(session, settings, job.entity, job.mode)
        if created:
            opened.append(item_id)
    return opened


def claim_pass(session: Session, settings: Settings, item_id: int, claimant: str, *,
               take_over_dead: bool = False) -> ClaimedPass | None:
    """Claim pass `item_id` for `claimant`; None when it is done, dead, gone or held by
    another claimant. With `take_over_dead`, a claim held by a process of this host that
    no longer runs (a CLI run killed half way) is taken over at once."""
    item = session.get(SyncQueueItem, item_id, populate_existing=True)
    if item is None or item.kind != SYNC_KIND:
        return None
    if take_over_dead and local_process_gone(item.claimed_by):
        item.claim_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.flush()
    if not queue_for(session, settings).mark_processing(item_id, claimant):
        return None
    saved = item.payload.get("checkpoint")
    return ClaimedPass(item.id, item.entity, item.payload["mode"],
                       Checkpoint.from_json(saved) if saved else None, item.correlation_id)


def run_pass(database: Database, client: ZohoReader, settings: Settings, item_id: int,
             claimant: str | None = None, *, take_over_dead: bool = False,
             progress: Callable[[SyncReport], None] | None = None) -> SyncReport | None:
    """Run pass `item_id` from its checkpoint to its end; None when it could not be
    claimed (another process runs it, or it is finished). Raises whatever stopped it:
    the caller records the failure (:meth:`QueueService.record_failure`)."""
    with database.session() as session:
        held = claim_pass(session, settings, item_id, claimant or this_process(),
                          take_over_dead=take_over_dead)
    if held is None:
        return None
    entity = entity_named(held.entity)
    report: SyncReport | None = None
    with correlated(held.correlation_id):
        if held.checkpoint is not None:
            log.info("resuming a pass", extra={"entity": held.entity, "mode": held.mode,
                                               "page": held.checkpoint.page})
        for report in iter_sync(database, client, entity, settings.zoho_organization_id,
                                held.mode, held.checkpoint,
                                details=entity.name in settings.fetch_details,
                                on_checkpoint=lambda point: _save(database, settings, held,
                                                                  point)):
            if progress is not None:
                progress(report)
        with database.session() as session:
            queue_for(session, settings).mark_completed(item_id)
    return report


def _save(database: Database, settings: Settings, held: ClaimedPass,
          checkpoint: Checkpoint) -> None:
    """Keep where the pass stands and renew its claim (losing the last one to a crash
    only means reading a page again)."""
    renewed = datetime.now(UTC) + timedelta(seconds=settings.pass_lease_seconds)
    with database.session() as session:
        commit_without_flush_wait(session)
        session.execute(update(SyncQueueItem).where(SyncQueueItem.id == held.item_id).values(
            payload={"mode": held.mode, "checkpoint": checkpoint.to_json()},
            claim_expires_at=renewed, next_retry_at=renewed))
