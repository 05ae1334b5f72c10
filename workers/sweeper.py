"""`tds.maintenance.sweep_inbox`: enqueue webhook events the broker never took.

A thin task over :meth:`tds.inbox.ProcessorService.sweep`; beat runs it
every ``TDS_SWEEPER_INTERVAL_SECONDS``. It is a shared task so any Celery
app built by ``create_celery`` publishes through its own broker.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from tds.inbox import ProcessorService
from workers.app import database, settings

SWEEP_TASK = "tds.maintenance.sweep_inbox"
# Fail fast when the broker is down: the next sweep tries again.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.0, "interval_step": 0.2,
                        "interval_max": 0.2}


class TaskEnqueue:
    """:class:`tds.inbox.Enqueue` over a Celery app's ``send_task``."""

    def __init__(self, celery: Any) -> None:
        self.celery = celery

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None:
        self.celery.send_task(task_name, args=args, queue=queue, retry=True,
                              retry_policy=PUBLISH_RETRY_POLICY)


@shared_task(name=SWEEP_TASK, bind=True, ignore_result=True)
def sweep_inbox(self: Any) -> int:
    """Re-enqueue inbox events left `received` past the grace period; returns how many."""
    with database().session() as session:
        return ProcessorService(settings()).sweep(session, TaskEnqueue(self.app))
