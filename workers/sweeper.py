"""`tds.maintenance.sweep_inbox`: publish webhook events the relay never took.

A thin task over :meth:`tds.inbox.ProcessorService.publish_received` for
events left ``received`` past ``TDS_SWEEPER_GRACE_SECONDS``: the safety net
for a relay that is not running. Beat runs it every
``TDS_SWEEPER_INTERVAL_SECONDS``. It is a shared task so any Celery app
built by ``create_celery`` publishes through its own broker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task

from tds.inbox import ProcessorService
from workers.app import database, settings
from workers.relay import TaskEnqueue

SWEEP_TASK = "tds.maintenance.sweep_inbox"


@shared_task(name=SWEEP_TASK, bind=True, ignore_result=True)
def sweep_inbox(self: Any) -> int:
    """Publish inbox events left `received` past the grace period; returns how many."""
    grace = timedelta(seconds=settings().sweeper_grace_seconds)
    with database().session() as session:
        return ProcessorService(settings()).publish_received(
            session, TaskEnqueue(self.app), older_than=grace).published
