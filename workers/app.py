"""The Celery application, configured from `celeryconfig`.

Each worker process keeps one `Database`; it is disposed after the fork so
no pooled connection is shared between processes.
"""

from __future__ import annotations

import threading
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init

from celeryconfig import celery_settings
from tds.config import Settings, load_settings
from tds.db.session import Database
from tds.logs import configure_logging
from workers.schedule import beat_schedule

TASK_MODULES = ["workers.tasks", "workers.sweeper"]
_state: dict[str, Any] = {}
_creating = threading.Lock()  # the threads pool's first tasks arrive together


def create_celery(settings: Settings) -> Celery:
    """A Celery app for `settings` (tests and the web app's producer use this)."""
    celery = Celery("tds", include=TASK_MODULES)
    celery.conf.update(celery_settings(settings), beat_schedule=beat_schedule(settings))
    return celery


_state["settings"] = load_settings()
app = create_celery(_state["settings"])


def settings() -> Settings:
    """The worker's settings, read once."""
    return _state["settings"]  # type: ignore[no-any-return]


def database() -> Database:
    """The worker process's database (engine and sessionmaker)."""
    if "database" not in _state:
        with _creating:
            if "database" not in _state:
                _state["database"] = Database(settings().database_url)
    return _state["database"]  # type: ignore[no-any-return]


@worker_process_init.connect
def _dispose_after_fork(**_: Any) -> None:
    if "database" in _state:
        _state["database"].dispose()


@setup_logging.connect
def _json_logging(**_: Any) -> None:
    configure_logging(settings().log_level, settings().log_json)
