"""What a starting worker does first: give back what workers that are gone held.

A worker killed mid-task (``kill -9``, a lost host) leaves its ledger rows
``processing`` under a claim that lapses only with its lease (minutes), and its
Zoho call slots taken for a call's worst case, stalling every worker's calls
meanwhile. When a worker starts it asks the cluster who is alive (Celery's
``ping``) and releases the claims and slots held by anyone who is not: a worker
with its own name (its predecessor: one name never runs twice), workers that did
not answer, and processes of this host that no longer run (a CLI pass). The
released rows are dispatched at once. A live worker too busy to answer only has
its event run twice, which the claim and the version guard make harmless.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from tds.ledger import QueueService
from tds.processes import local_process_gone
from workers.app import CONTEXT_ATTRIBUTE, context
from workers.tasks import dispatch

log = logging.getLogger("tds.workers.recovery")
PING_TIMEOUT_SECONDS = 2.0


def gone_claimants(held: set[str], me: str, alive: set[str] | None) -> set[str]:
    """Of the claimants in `held`, those known gone: `me` (a worker that just started
    holds nothing, so a claim in its name is its predecessor's), worker names
    (``name@host``) not in `alive` (None: the cluster could not be asked) and local
    processes that no longer run."""
    def gone(claimant: str) -> bool:
        if claimant == me or local_process_gone(claimant):
            return True
        return alive is not None and "@" in claimant and claimant not in alive
    return {claimant for claimant in held if gone(claimant)}


def release_dead_claims(celery: Celery, me: str) -> int:
    """Release what gone holders held (ledger claims, Zoho call slots) and dispatch
    their work; how many ledger rows were released."""
    ctx = context(celery)
    budget = ctx.zoho.budget
    with ctx.database.session() as session:
        held = QueueService.from_settings(session, ctx.settings).claimants()
    held |= budget.slot_holders()
    if not held:
        return 0
    gone = gone_claimants(held, me, _alive_workers(celery) if held - {me} else None)
    if not gone:
        return 0
    slots = budget.release_slots(gone)
    with ctx.database.session() as session:
        released = QueueService.from_settings(session, ctx.settings).release_claims(gone)
    log.warning("released what workers that are gone held", extra={
        "claims": released, "call_slots": slots, "holders": sorted(gone)})
    if released:
        dispatch(celery)
    return released


def _alive_workers(celery: Celery) -> set[str] | None:
    try:
        answers = celery.control.ping(timeout=PING_TIMEOUT_SECONDS) or []
    except Exception as error:  # noqa: BLE001 - a broker without broadcast: ask no one
        log.info("could not ask the cluster who is alive", extra={"error": str(error)[:200]})
        return None
    return {name for answer in answers for name in answer}


@worker_ready.connect
def _on_worker_ready(sender: Any, **_: Any) -> None:
    celery = sender.app
    if not hasattr(celery, CONTEXT_ATTRIBUTE):
        return
    # Off the consumer's thread: the ping waits, and tasks should flow meanwhile.
    threading.Thread(target=_release_logged, args=(celery, sender.hostname), daemon=True,
                     name="tds-release-claims").start()


def _release_logged(celery: Celery, me: str) -> None:
    try:
        release_dead_claims(celery, me)
    except Exception:  # a failure here must not take the worker down; leases still lapse
        log.exception("could not release the claims of gone workers")
