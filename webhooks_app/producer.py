"""The receiver's side of the broker: publish an inbox event's task, failing fast.

:class:`CeleryEnqueue` implements :class:`tds.inbox.Enqueue` over a Celery
app's ``send_task``. Publishing retries once, briefly: a broker that is
down must not hold a webhook answer (the event is already stored, and
the sweeper enqueues it later).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from flask import Flask, current_app
from kombu.transport import redis as kombu_redis

from tds.config import Settings
from tds.inbox import Enqueue

# One quick retry covers a dropped pooled connection; a down broker fails in well under 1 s.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.0, "interval_step": 0.2,
                        "interval_max": 0.2}
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}
EXTENSION_KEY = "tds_producer"


class CeleryEnqueue:
    """Publishes tasks over a Celery app's pooled producers with a short retry policy.

    What ``send_task`` works out on every call (the route, the queue's
    exchange) is resolved once per task and queue; a call only builds the
    message (new id, args) and publishes it. With `declare_queues` off, a
    publish does not declare its queue first (about a fifth of a publish's
    CPU): right on Redis, where the queue is a list the push creates and
    declaring only records exchange bindings that a direct publish never
    reads; wrong on AMQP, where a message for an undeclared queue is dropped.
    """

    def __init__(self, celery: Any, declare_queues: bool = True) -> None:
        self.celery = celery
        self._routes: dict[tuple[str, str], dict[str, Any]] = {}
        self._declare: list[Any] | None = None if declare_queues else []

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None:
        amqp = self.celery.amqp
        route = self._routes.get((task_name, queue))
        if route is None:  # a benign race: two threads resolve the same route
            route = amqp.router.route({"queue": queue}, task_name, args, {}, None)
            self._routes[(task_name, queue)] = route
        # The message send_task would build; argsrepr given, as saferepr of ids costs more.
        message = amqp.create_task_message(
            str(uuid.uuid4()), task_name, args, {}, argsrepr=repr(args), kwargsrepr="{}",
            reply_to=self.celery.thread_oid, ignore_result=None,
            create_sent_event=self.celery.conf.task_send_sent_event)
        with self.celery.producer_or_acquire() as publisher:
            amqp.send_task_message(publisher, task_name, message, retry=True,
                                   retry_policy=PUBLISH_RETRY_POLICY, declare=self._declare,
                                   **route)


class _SharedClientChannel(kombu_redis.Channel):  # type: ignore[misc]  # kombu is untyped
    """kombu's Redis channel, publishing through one client instead of one per message.

    kombu builds a new redis-py client (its command table included) for
    every publish: about a quarter of a publish's CPU, measured. A client
    over the channel's pool is thread-safe, so one serves every publish.
    """

    _publish_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        if self._publish_client is None:  # a benign race: a spare client is dropped
            self._publish_client = super()._create_client()
        return self._publish_client


class SharedClientTransport(kombu_redis.Transport):  # type: ignore[misc]  # kombu is untyped
    """kombu's Redis transport with :class:`_SharedClientChannel`."""

    Channel = _SharedClientChannel


def celery_producer(settings: Settings) -> CeleryEnqueue:
    """A producer-only Celery app for `settings` (no tasks imported, results off)."""
    from celery import Celery

    from celeryconfig import celery_settings

    celery = Celery("tds-webhooks", set_as_current=False)
    config = celery_settings(settings)
    redis_broker = settings.broker_url.startswith(("redis", "rediss"))
    if redis_broker:
        config["broker_transport_options"] = {**config["broker_transport_options"],
                                              **REDIS_TIMEOUTS}
        config["broker_transport"] = SharedClientTransport
    config["broker_connection_timeout"] = 2
    # A second publish per webhook only for Flower's "sent" state; queue depth shows backlog.
    config["task_send_sent_event"] = False
    celery.conf.update(config)
    return CeleryEnqueue(celery, declare_queues=not redis_broker)


def install_producer(app: Flask, enqueue: Enqueue) -> None:
    """Use `enqueue` for this app's webhooks (tests install one on a chosen broker)."""
    app.extensions[EXTENSION_KEY] = enqueue


def producer() -> Enqueue:
    """The current app's producer (:func:`webhooks_app.create_app` installs one)."""
    return cast(Enqueue, current_app.extensions[EXTENSION_KEY])
