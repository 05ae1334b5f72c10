"""Receiver outage benchmark: answers while the broker hangs, and how fast backlogs drain.

1. The TDS receiver under gunicorn (a scratch Postgres database, a Redis broker of
   this run's own) takes signed webhooks at a fixed rate for ``--duration`` s; in
   the middle its Redis is stopped (SIGSTOP) for ``--stall`` s. Prints the answer
   latency (from the scheduled send, open loop) before, during and after the
   stall, and the drain time: from SIGCONT until every stored event is marked
   published.
2. ``--backlog`` events stored but never published (a receiver that died with
   them, a broker down for a long while) are swept by the sweeper, as beat's
   task runs it: prints the time until all are in the broker.

Prints figures only (goals: p99 during the stall no worse than the ingest
goal's 25 ms; the 10,000-event backlog in the broker within 20 s); asserts
nothing. Everything listens on 127.0.0.1; the machine's shared Redis is never
stopped.

    .venv/bin/python -m bench.outage --rate 100 --stall 10
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402 - after the path is set.
from sqlalchemy import func, insert, select  # noqa: E402

from bench.ingest import drive, gunicorn, signed_requests, wait_ready  # noqa: E402
from bench.support import ADMIN_URL, percentile, scratch_database, stop_group  # noqa: E402
from tds.config import load_settings  # noqa: E402
from tds.db.models import InboxEvent, InboxStatus  # noqa: E402
from tds.db.session import Database  # noqa: E402
from tds.inbox import ProcessorService  # noqa: E402
from tests.fixtures.private import PrivateRedis  # noqa: E402
from workers.publish import producer_app  # noqa: E402

QUEUE = "tds.products"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks a second (100)")
    parser.add_argument("--duration", type=float, default=25.0, help="seconds of load (25)")
    parser.add_argument("--stall", type=float, default=10.0, help="seconds Redis hangs (10)")
    parser.add_argument("--backlog", type=int, default=10_000,
                        help="stored, unpublished events for the sweeper (10,000)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=18084)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tds-bench-outage-"))
    broker = PrivateRedis(folder)
    broker.start()
    try:
        with scratch_database(args.admin_url, "tds_bench_outage") as database_url:
            stall(args, database_url, broker, folder)
            sweep_backlog(args, database_url, broker, folder)
    finally:
        broker.stop()


def stall(args: argparse.Namespace, database_url: str, broker: PrivateRedis,
          folder: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker.url,
           "TDS_WEBHOOK_SECRET": "benchsecret0123456789", "TDS_API_KEYS": "bench",
           "TDS_VAR_DIR": str(folder), "TDS_ENV": "test", "TDS_LOG_LEVEL": "WARNING"}
    process = gunicorn("webhooks_app:create_app()", args.port, args, env)
    database = Database(database_url)
    try:
        wait_ready(args.port, process)
        drive(args.port, args.connections, 1.0, args.rate,  # warm-up: pools, first imports
              signed_requests(int(args.rate) + 2 * args.connections))
        begin = (args.duration - args.stall) / 2
        drained: list[float] = []
        threading.Timer(begin, broker.pause).start()
        threading.Timer(begin + args.stall, lambda: drained.append(
            _resume_and_drain(broker, database))).start()
        started = time.monotonic()
        tally = drive(args.port, args.connections, args.duration, args.rate,
                      signed_requests(int(args.rate * args.duration) + 2 * args.connections))
        while not drained:
            time.sleep(0.1)
    finally:
        broker.resume()
        stop_group(process, timeout=10)
        database.dispose()
    print(f"{args.rate:.0f} webhooks/s for {args.duration:.0f} s, Redis stopped for "
          f"{args.stall:.0f} s from {begin:.1f} s: {tally.ok} answered 2xx, {tally.failed} not")
    phases = {"before": (0.0, begin), "during": (begin, begin + args.stall),
              "after": (begin + args.stall, args.duration)}
    for name, (low, high) in phases.items():
        millis = [latency * 1000 for latency, due in zip(tally.latencies, tally.scheduled,
                                                       strict=True)
                  if low <= due - started < high]
        print(f"  {name:<6} the stall: {len(millis):5d} answers, p50 "
              f"{percentile(millis, 0.5):6.1f} ms, p99 {percentile(millis, 0.99):6.1f} ms, "
              f"max {max(millis, default=0):6.1f} ms")
    print(f"drain: every event stored during the stall published {drained[0]:.2f} s after "
          "Redis came back")


def _resume_and_drain(broker: PrivateRedis, database: Database, timeout: float = 120) -> float:
    """Resume Redis; seconds until every event stored before that is published."""
    resumed_at = datetime.now(UTC)
    broker.resume()
    since = time.monotonic()
    while time.monotonic() < since + timeout:
        with database.session() as session:
            waiting = session.scalar(select(func.count()).where(
                InboxEvent.status == InboxStatus.RECEIVED, InboxEvent.received_at <= resumed_at))
        if not waiting:
            return time.monotonic() - since
        time.sleep(0.02)
    return float("inf")


def sweep_backlog(args: argparse.Namespace, database_url: str, broker: PrivateRedis,
                  folder: Path) -> None:
    client = redis.Redis.from_url(broker.url)
    client.flushdb()
    database = Database(database_url)
    with database.session() as session:
        session.execute(insert(InboxEvent), [_unpublished(index) for index in range(args.backlog)])
    settings = load_settings({"DATABASE_URL": database_url, "CELERY_BROKER_URL": broker.url,
                              "TDS_VAR_DIR": str(folder), "TDS_ENV": "test",
                              "TDS_WEBHOOK_SECRET": "benchsecret0123456789",
                              "TDS_API_KEYS": "bench"})
    publisher = producer_app(settings)
    started = time.monotonic()
    swept = ProcessorService(settings).sweep(database, publisher)
    seconds = time.monotonic() - started
    print(f"sweeper: {swept} of {args.backlog} stored, unpublished events in the broker "
          f"({client.llen(QUEUE)} messages) in {seconds:.2f} s, {swept / seconds:.0f}/s "
          "(goal: 10,000 within 20 s)")
    client.close()
    database.dispose()


def _unpublished(index: int) -> dict[str, object]:
    zoho_id = str(10**14 + index)
    return {"entity": "products", "zoho_id": zoho_id, "organization_id": None,
            "dedup_key": uuid.uuid4().hex, "signature_scheme": "zoho",
            "content_type": "application/json", "raw_body": "{}", "headers": {},
            "payload": {"item_id": zoho_id}, "correlation_id": uuid.uuid4().hex,
            "status": InboxStatus.RECEIVED,
            "received_at": datetime.now(UTC) - timedelta(hours=1)}


if __name__ == "__main__":
    main()
