"""`create_app(settings)`: the receiver's application factory."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from tds.config import Settings, load_settings
from tds.db.session import Database
from tds.inbox import Enqueue
from tds.logs import configure_logging
from webhooks_app import consumer, health, webhooks
from webhooks_app.extensions import TDSExtension
from workers.publish import producer_app


def create_app(settings: Settings | None = None, database: Database | None = None,
               publisher: Enqueue | None = None) -> Flask:
    """Build the receiver; tests pass their own settings, database and publisher."""
    settings = settings or load_settings()
    if not settings.testing:
        configure_logging(settings.log_level, settings.log_json)
    app = Flask("tds")
    app.config["MAX_CONTENT_LENGTH"] = settings.webhook_max_bytes
    database = database or Database.for_receiver(settings)
    TDSExtension(settings, database, publisher or producer_app(settings)).init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(consumer.blueprint)
    app.register_error_handler(HTTPException, _json_error)
    if not settings.testing:
        # Everything loaded so far (Flask, SQLAlchemy, Celery, kombu) lives as long as the
        # process. Frozen, a full collection no longer walks it: unfrozen, one took about
        # 100 ms, holding every request thread of the worker. (Not in tests, which build
        # many apps in one process and need theirs collected.)
        gc.freeze()
    return app


def _json_error(error: HTTPException) -> Any:
    """Every error answer is JSON with a message a person understands."""
    response = jsonify(error=error.name.lower().replace(" ", "_"), message=error.description)
    response.status_code = error.code or 500
    return response
