"""Celery's settings, built from the one TDS settings object.

:func:`celery_settings` turns a :class:`tds.config.Settings` into Celery's
configuration for :func:`workers.app.create_celery` (and the receiver's
producer-only app). Nothing here runs at import: the environment is read in
exactly one place, `tds/config.py`, when a process starts.
"""

from __future__ import annotations

from typing import Any

from kombu import Queue

from tds.config import Settings
from tds.entities import ALL_QUEUES, ENTITIES, MAINTENANCE_QUEUE, ORDERS_QUEUE


def celery_settings(settings: Settings) -> dict[str, Any]:
    """Celery's configuration for `settings`."""
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": settings.broker_transport_options(),
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        # A task is acknowledged only after it ran, and a worker killed mid-task
        # puts it back: with idempotent tasks nothing is lost or doubled.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "task_queues": [Queue(name, routing_key=name) for name in ALL_QUEUES],
        # A task killed at its limit leaves a claim that lapses (an event) or a checkpoint
        # (a pass); the visibility timeout outlasts both (tds.config.refuse_duplicating).
        "task_time_limit": settings.task_time_limit_seconds,
        "task_annotations": {entity.event_task: {"time_limit": settings.claim_lease_seconds}
                             for entity in ENTITIES},
        "task_default_queue": MAINTENANCE_QUEUE,
        "task_routes": {
            **{f"{entity.queue}.*": {"queue": entity.queue} for entity in ENTITIES},
            "tds.orders.*": {"queue": ORDERS_QUEUE},
            "tds.maintenance.*": {"queue": MAINTENANCE_QUEUE},
        },
    }
