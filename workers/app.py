"""The Celery application factory, as Flask's Celery example builds one.

:func:`create_celery` makes an app from a :class:`~tds.config.Settings`; it
reads no environment and builds nothing at import. ``workers/make_celery.py``
is the one module that builds the app when imported (for ``celery -A``).
Tasks are ``shared_task``s in :mod:`workers.tasks` and reach their process's
database, Zoho client and publisher through :func:`context`.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from celery import Celery, current_app
from celery.signals import celeryd_init, setup_logging, worker_process_init

from celeryconfig import celery_settings
from tds.config import Settings
from tds.db.session import Database
from tds.logs import configure_logging
from tds.processes import this_process
from tds.zoho import UnifiedZohoClient
from workers.publish import Publisher
from workers.schedule import beat_schedule

# Imported by every worker at start: the tasks, and what a starting worker does.
WORKER_MODULES = ["workers.tasks", "workers.recovery"]
CONTEXT_ATTRIBUTE = "tds_context"


class WorkerContext:
    """One worker process's settings and, made on first use, its database, Zoho
    client and publisher (one each for all the threads of the process)."""

    def __init__(self, celery: Celery, settings: Settings) -> None:
        self.celery = celery
        self.settings = settings
        self.holder = this_process()  # its node name once it is a worker (worker_named)
        self._made: dict[str, Any] = {}
        self._lock = threading.RLock()  # the threads pool's first tasks arrive together

    def _once(self, name: str, make: Any) -> Any:
        if name not in self._made:
            with self._lock:
                if name not in self._made:
                    self._made[name] = make()
        return self._made[name]

    @property
    def database(self) -> Database:
        return cast(Database, self._once("database",
                                         lambda: Database(self.settings.database_url)))

    @property
    def zoho(self) -> UnifiedZohoClient:
        return cast(UnifiedZohoClient, self._once("zoho", self._make_zoho))

    def _make_zoho(self) -> UnifiedZohoClient:
        client = UnifiedZohoClient(self.settings, self.database)
        client.budget.holder = self.holder  # its call slots are named after the worker
        return client

    @property
    def publisher(self) -> Publisher:
        return cast(Publisher, self._once("publisher", lambda: Publisher(self.celery)))

    def after_fork(self) -> None:
        """Drop what the parent process opened: a pooled connection is never shared."""
        database = self._made.pop("database", None)
        if database is not None:
            database.dispose()
        self._made.pop("zoho", None)


def create_celery(settings: Settings) -> Celery:
    """A Celery app for `settings`: configuration, beat schedule, tasks, context."""
    if settings.uses_filesystem_broker:
        for folder in settings.broker_folders().values():
            folder.mkdir(parents=True, exist_ok=True)
    celery = Celery("tds", include=WORKER_MODULES, set_as_current=False)
    celery.conf.update(celery_settings(settings), beat_schedule=beat_schedule(settings))
    setattr(celery, CONTEXT_ATTRIBUTE, WorkerContext(celery, settings))
    # The task modules' shared tasks join every app; a worker imports them at start,
    # other users of the app (the sweeper's tests, the CLI) need them now.
    celery.loader.import_default_modules()
    return celery


def context(celery: Celery) -> WorkerContext:
    """The worker context of `celery` (a task's ``self.app``)."""
    return cast(WorkerContext, getattr(celery, CONTEXT_ATTRIBUTE))


@celeryd_init.connect
def _worker_named(sender: str, instance: Any, **_: Any) -> None:
    found = getattr(instance.app, CONTEXT_ATTRIBUTE, None)
    if isinstance(found, WorkerContext):
        found.holder = sender  # what the worker's claims and call slots are held under


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    found = getattr(current_app, CONTEXT_ATTRIBUTE, None)
    if isinstance(found, WorkerContext):
        found.after_fork()


@setup_logging.connect
def _json_logging(**_: Any) -> None:
    found = getattr(current_app, CONTEXT_ATTRIBUTE, None)
    if isinstance(found, WorkerContext):
        configure_logging(found.settings.log_level, found.settings.log_json)
