"""Benchmark: consumer orders accepted by the API, and created in the sandbox.

Starts the sandbox (its rate limits off) and the receiver under gunicorn on a
scratch Postgres database and a Redis broker; POSTs `--orders` distinct orders (each
its own Idempotency-Key) from `--clients` threads over keep-alive connections; then
starts a Celery worker on the orders queue, which finds them waiting. The two phases
run apart so neither takes the other's cores. Prints orders/s accepted (202s over
the wall time of the sends, with answer latency), orders/s created in the sandbox
(between the first and the last creation, as the database stamps them: the worker's
start-up is not counted),
Zoho calls per order and duplicates found (goal 0). Figures only.

    .venv/bin/python -m bench.orders --orders 1000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.lag import free_port, wait_http
from bench.support import ADMIN_URL, percentile, scratch_database, stack_env, stop_group

BIN = Path(sys.executable).parent
API_KEY = "bench-orders-key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="orders to place")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--concurrency", type=int, default=8, help="worker threads")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="emptied first (shared with bench.sync_full: run one at a time)")
    args = parser.parse_args()
    with scratch_database(args.admin_url, "tds_orders") as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    """Start sandbox, receiver and worker on `url`, place the orders, print the rates."""
    redis.Redis.from_url(args.redis_url).flushdb()
    sandbox_port, web_port = free_port(), free_port()
    sandbox_url, api_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{web_port}"
    env = stack_env(url, args.redis_url, sandbox_url, TDS_API_KEYS=API_KEY,
                    TDS_WEBHOOK_SECRET="benchsecret0123456789",
                    ZOHO_MAX_CONCURRENCY=str(args.concurrency))
    processes: list[subprocess.Popen[bytes]] = []
    log = open(f"/tmp/{make_url(url).database}.log", "wb")  # noqa: SIM115 - for the children
    try:
        def start(command: list[str]) -> None:
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                              start_new_session=True))

        start([str(BIN / "tds"), "sandbox", "serve", "--port", str(sandbox_port),
               "--rate-limit-per-min", "1000000", "--daily-limit", "100000000"])
        start([str(BIN / "gunicorn"), "-w", "2", "--worker-class", "gthread", "--threads",
               "4", "-b", f"127.0.0.1:{web_port}", "webhooks_app.factory:create_app()"])
        wait_http(f"{sandbox_url}/__admin/stats")
        wait_http(f"{api_url}/healthz")
        customers = list(requests.get(f"{sandbox_url}/__admin/records/contacts",
                                      timeout=10).json())
        items = list(requests.get(f"{sandbox_url}/__admin/records/items", timeout=10).json())
        requests.post(f"{sandbox_url}/__admin/reset-stats", timeout=10)
        latencies, elapsed, accepted = place(api_url, customers, items, args)
        start([str(BIN / "celery"), "-A", "workers.make_celery", "worker", "-Q",
               "tds.orders,tds.maintenance", "--pool", "threads", "-c", str(args.concurrency),
               "--without-gossip", "--without-mingle", "-l", "warning"])
        created, span = wait_created(url)
        stats = requests.get(f"{sandbox_url}/__admin/stats", timeout=10).json()
        report(args, latencies, elapsed, accepted, created, span, stats)
    finally:
        for process in reversed(processes):
            stop_group(process)
        log.close()


def place(api_url: str, customers: list[str], items: list[str],
          args: argparse.Namespace) -> tuple[list[float], float, int]:
    """POST the orders from the client threads: answer latencies (ms), wall time, 202s."""
    latencies: list[float] = []
    accepted = [0]
    lock = threading.Lock()
    counter = iter(range(args.orders))

    def client() -> None:
        session = requests.Session()
        session.headers.update({"X-API-Key": API_KEY})
        for number in counter:  # next() on a shared iterator is atomic under the GIL
            body = {"customer_id": customers[number % len(customers)],
                    "line_items": [{"item_id": items[number % len(items)], "quantity": 1,
                                    "rate": 10 + number % 7}]}
            sent = time.perf_counter()
            answer = session.post(f"{api_url}/consumer/orders", json=body, timeout=30,
                                  headers={"Idempotency-Key": uuid.uuid4().hex})
            with lock:
                latencies.append((time.perf_counter() - sent) * 1000)
                accepted[0] += answer.status_code == 202

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, accepted[0]


def wait_created(url: str, timeout: float = 600) -> tuple[int, float]:
    """Wait until every accepted order left `pending`; (created, seconds from the first
    creation to the last)."""
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            pending = connection.execute(text(
                "SELECT COUNT(*) FROM sales_orders WHERE state = 'pending'")).scalar_one()
            connection.commit()
            if pending == 0:
                break
            time.sleep(0.5)
        created, span = connection.execute(text(
            "SELECT COUNT(*), EXTRACT(EPOCH FROM MAX(synced_at) - MIN(synced_at)) "
            "FROM sales_orders WHERE state = 'created'")).one()
    engine.dispose()
    return int(created), float(span or 0.0)


def report(args: argparse.Namespace, latencies: list[float], elapsed: float, accepted: int,
           created: int, span: float, stats: dict[str, object]) -> None:
    endpoints = stats.get("endpoints")
    calls = endpoints if isinstance(endpoints, dict) else {}
    creates = int(calls.get("POST /books/v3/salesorders", 0))
    requests_made = int(str(stats.get("requests", 0)))
    print(f"orders:          {args.orders} from {args.clients} client threads; worker "
          f"--pool threads -c {args.concurrency}; sandbox rate limits off")
    print(f"accepted (202):  {accepted} in {elapsed:.2f} s = {accepted / elapsed:.0f} orders/s; "
          f"answer p50 {percentile(latencies, 0.5):.1f} ms, p99 "
          f"{percentile(latencies, 0.99):.1f} ms")
    print(f"created in Zoho: {created} in {span:.2f} s from the first to the last = "
          f"{(created - 1) / span if span else 0:.0f} orders/s")
    print(f"Zoho calls:      {requests_made} ({requests_made / max(created, 1):.2f} per order: "
          f"a look-up and a create); creates {creates}, duplicates {creates - created} "
          "(goal 0)")


if __name__ == "__main__":
    main()
