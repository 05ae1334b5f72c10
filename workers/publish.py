"""Publishing tasks: the one publisher the receiver, the sweeper and the dispatcher use.

:class:`Publisher` implements :class:`tds.inbox.Enqueue` over a Celery app's
pooled producers with one short retry policy: a broker that is down must
fail a publish fast (the event is already stored; the sweeper or the next
dispatch publishes it later). :func:`producer_app` builds the receiver's
producer-only Celery app.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from celery import Celery
from kombu.transport import redis as kombu_redis

from celeryconfig import celery_settings
from tds.config import Settings

# One quick retry covers a dropped pooled connection; a down broker fails in well under 1 s.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.0, "interval_step": 0.2,
                        "interval_max": 0.2}
BATCH_SIZE = 500  # messages in one pipelined round trip
REDIS_TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


class Publisher:
    """Publishes tasks over a Celery app's pooled producers with the short retry policy.

    What ``send_task`` works out on every call (the route, the queue's
    exchange) is resolved once per task and queue; a call only builds the
    message (new id, args) and publishes it. With `declare_queues` off, a
    publish does not declare its queue first (about a fifth of a publish's
    CPU): right on Redis, where the queue is a list the push creates and
    declaring only records exchange bindings that a direct publish never
    reads; wrong on AMQP, where a message for an undeclared queue is dropped.
    """

    def __init__(self, celery: Celery, declare_queues: bool = True) -> None:
        self.celery = celery
        self._routes: dict[tuple[str, str], dict[str, Any]] = {}
        self._declare: list[Any] | None = None if declare_queues else []

    def __call__(self, task_name: str, args: list[Any], queue: str) -> None:
        with self.celery.producer_or_acquire() as producer:
            self._send(producer, task_name, args, queue)

    def publish_many(self, messages: Sequence[tuple[str, list[Any], str]]) -> None:
        """Publish `messages` (task name, args, queue) in one batch where the transport
        batches (kombu's ``Producer.batch``: one pipelined round trip on Redis), else one
        by one. Raises on a broker failure; some may have gone (at least once)."""
        with self.celery.producer_or_acquire() as producer, producer.batch(BATCH_SIZE):
            for task_name, args, queue in messages:
                self._send(producer, task_name, args, queue)

    def _send(self, producer: Any, task_name: str, args: list[Any], queue: str) -> None:
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
        amqp.send_task_message(producer, task_name, message, retry=True,
                               retry_policy=PUBLISH_RETRY_POLICY, declare=self._declare,
                               **route)


class _SharedClientChannel(kombu_redis.Channel):
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


class SharedClientTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`_SharedClientChannel`."""

    Channel = _SharedClientChannel


def producer_app(settings: Settings) -> Publisher:
    """A publisher over a producer-only Celery app for `settings` (no tasks, no results)."""
    celery = Celery("tds-producer", set_as_current=False)
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
    return Publisher(celery, declare_queues=not redis_broker)
