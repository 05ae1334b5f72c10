"""Batched ``queued`` marks: written by a background thread, safe to lose."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from tds.db.models import InboxEvent, InboxStatus
from tds.db.session import Database
from tds.queued_marks import QueuedMarks
from tests.webhooks.conftest import events, post_zoho, unique_item
from webhooks_app.producer import install_producer

DOWN_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/none"


def published(app: Flask) -> list[list[Any]]:
    """Install a producer that only records what it was asked to publish."""
    calls: list[list[Any]] = []
    install_producer(app, lambda _task, args, _queue: calls.append(args))
    return calls


def wait_for_status(database: Database, status: InboxStatus, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(event.status == status for event in events(database)):
            return
        time.sleep(0.02)
    raise AssertionError(f"events are {[event.status for event in events(database)]}, "
                         f"not all {status} after {seconds} s")


def test_published_events_are_marked_queued_by_the_background_flush(
        app: Flask, database: Database) -> None:
    calls = published(app)
    client = app.test_client()
    for _ in range(5):
        assert post_zoho(client, unique_item()).status_code == 202
    assert len(calls) == 5
    wait_for_status(database, InboxStatus.QUEUED)  # no explicit flush
    assert all(event.queued_at is not None for event in events(database))


def test_a_refused_publish_is_noted_at_once_and_never_marked(app: Flask,
                                                             database: Database) -> None:
    def refuse(task_name: str, args: list[Any], queue: str) -> None:
        raise ConnectionError("broker down")

    install_producer(app, refuse)
    answer = post_zoho(app.test_client(), unique_item())
    assert (answer.status_code, answer.get_json()["queued"]) == (202, False)
    assert app.extensions["tds"].queued_marks.flush() == 0
    [event] = events(database)
    assert event.status == InboxStatus.RECEIVED
    assert event.error == "enqueue failed: ConnectionError: broker down"


def test_a_flush_the_database_refuses_is_logged_and_left_to_the_sweeper(
        app: Flask, database: Database, caplog: pytest.LogCaptureFixture) -> None:
    published(app)
    assert post_zoho(app.test_client(), unique_item()).status_code == 202
    [event] = events(database)
    down = Database(DOWN_DATABASE)
    marks = QueuedMarks(down, interval=3600)
    marks.add(event.id)
    with caplog.at_level(logging.WARNING, logger="tds.queued_marks"):
        assert marks.flush() == 1  # no exception: the request path never sees it
    down.dispose()
    assert "the sweeper will publish them again" in caplog.text
    assert events(database)[0].status == InboxStatus.RECEIVED  # the sweeper's to redo
    assert marks.flush() == 0  # the lost marks are not retried forever


def test_one_flush_marks_a_batch_and_skips_events_a_worker_finished(
        app: Flask, database: Database) -> None:
    marks = app.extensions["tds"].queued_marks = QueuedMarks(database, interval=3600)
    published(app)
    client = app.test_client()
    ids = [post_zoho(client, unique_item()).get_json()["event_id"] for _ in range(3)]
    with database.session() as session:  # a fast worker applied the first one already
        session.execute(update(InboxEvent).where(InboxEvent.id == ids[0])
                        .values(status=InboxStatus.PROCESSED))
    assert [event.status for event in events(database)] == [InboxStatus.PROCESSED] + [
        InboxStatus.RECEIVED] * 2
    assert marks.flush() == 3
    assert [event.status for event in events(database)] == [
        InboxStatus.PROCESSED, InboxStatus.QUEUED, InboxStatus.QUEUED]
