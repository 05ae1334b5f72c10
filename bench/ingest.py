"""Webhook ingest benchmark: the receiver against a bare Flask app, same gunicorn.

Starts the receiver under gunicorn on a scratch Postgres database
(``tds_bench_ingest``) with a Redis broker, and a bare Flask app answering
200 under the same gunicorn settings; drives each with signed, distinct
webhooks over keep-alive connections for a bounded time; then offers the
receiver half its measured maximum and records latency. Prints figures
only (goals: receiver/bare >= 0.5, p99 <= 25 ms at half load); asserts
nothing. Everything listens on 127.0.0.1.

    .venv/bin/python bench/ingest.py --duration 5
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, Response, jsonify  # noqa: E402 - after the path is set.

SECRET = "benchsecret0123456789"
PATH = "/api/zoho/webhooks/products"


def bare_app() -> Flask:
    """The baseline: the same route answering 200 without doing anything."""
    app = Flask("bare")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.post(PATH)
    def receive() -> Response:
        return jsonify(accepted=True)

    return app


@dataclass
class Tally:
    """Answers and latencies from a load run."""

    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        with self.lock:
            if 200 <= status < 300:
                self.ok += 1
                self.latencies.append(seconds)
            else:
                self.failed += 1


_ids = itertools.count(time.time_ns() // 1000)  # distinct across runs


def signed_request() -> tuple[bytes, dict[str, str]]:
    """A distinct product webhook signed with Zoho's scheme."""
    from tds.signatures import sign_zoho

    record = {"item_id": str(next(_ids)), "name": "Bench widget", "rate": 9.5,
              "last_modified_time": "2023-11-18T02:02:51-0800"}
    body = json.dumps({"item": record}).encode()
    return body, {"Content-Type": "application/json",
                  "X-Zoho-Webhook-Signature": sign_zoho(SECRET, body)}


def drive(port: int, threads: int, duration: float, rate: float | None) -> Tally:
    """Send webhooks for `duration` s: as fast as possible, or paced at `rate`/s overall."""
    tally = Tally()
    stop = time.monotonic() + duration
    interval = threads / rate if rate else 0.0

    def worker(offset: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        next_at = time.monotonic() + offset
        while (now := time.monotonic()) < stop:
            if interval:
                if next_at > now:
                    time.sleep(next_at - now)
                next_at += interval
            body, headers = signed_request()
            started = time.perf_counter()
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            tally.add(status, time.perf_counter() - started)
        connection.close()

    workers = [threading.Thread(target=worker, args=(index * interval / threads,))
               for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tally


def gunicorn(app_spec: str, port: int, args: argparse.Namespace,
             env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", app_spec, "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--threads", str(args.threads), "--keep-alive", "30",
               "--chdir", str(ROOT), "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
               "--log-level", "warning"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on port {port} exited ({process.returncode}).")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on port {port} did not answer within {timeout} s.")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def scratch_database(admin_url: str, name: str) -> str:
    """Drop and create `name`, migrate it, return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tds.db import migrate

    admin_url = make_url(admin_url).set(drivername="postgresql+psycopg2") \
        .render_as_string(hide_password=False)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    migrate.upgrade(rendered)
    return rendered


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def measure(name: str, start: Callable[[], subprocess.Popen[bytes]], port: int,
            args: argparse.Namespace) -> float:
    process = start()
    try:
        wait_ready(port, process)
        drive(port, args.connections, min(1.0, args.duration), None)  # warm up
        tally = drive(port, args.connections, args.duration, None)
    finally:
        stop(process)
    rate: float = tally.ok / args.duration
    print(f"{name:<9} max load: {rate:8.0f} accepted req/s  ({tally.ok} ok, {tally.failed} "
          f"failed, {args.connections} connections, {args.duration:.0f} s)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (5)")
    parser.add_argument("--connections", type=int, default=16,
                        help="keep-alive client connections at max load (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="admin URL used to create the scratch database")
    parser.add_argument("--database", default="tds_bench_ingest", help="scratch database name")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14", help="Redis broker")
    parser.add_argument("--receiver-port", type=int, default=18081)
    parser.add_argument("--bare-port", type=int, default=18082)
    args = parser.parse_args()

    import redis

    database_url = scratch_database(args.postgres, args.database)
    broker = redis.Redis.from_url(args.broker)
    broker.flushdb()
    var_dir = tempfile.mkdtemp(prefix="tds-bench-ingest-")
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": args.broker,
           "TDS_WEBHOOK_SECRET": SECRET, "TDS_API_KEYS": "bench", "TDS_VAR_DIR": var_dir,
           "TDS_ENV": "test", "TDS_LOG_LEVEL": "INFO"}
    print(f"gunicorn: {args.workers} x {args.worker_class} workers, {args.threads} threads; "
          f"Postgres {args.database}, broker {args.broker}; CPUs: {os.cpu_count()}")
    try:
        receiver = measure("receiver", lambda: gunicorn("webhooks_app:create_app()",
                                                        args.receiver_port, args, env),
                           args.receiver_port, args)
        bare = measure("bare", lambda: gunicorn("ingest:bare_app()", args.bare_port, args, env),
                       args.bare_port, args)
        print(f"ratio receiver/bare: {receiver / bare:.2f} (goal >= 0.5)")
        half = receiver / 2
        process = gunicorn("webhooks_app:create_app()", args.receiver_port, args, env)
        try:
            wait_ready(args.receiver_port, process)
            tally = drive(args.receiver_port, args.connections, args.duration, half)
        finally:
            stop(process)
        millis = [value * 1000 for value in tally.latencies]
        print(f"receiver at half load ({half:.0f} req/s offered, {tally.ok / args.duration:.0f} "
              f"accepted/s, {tally.failed} failed): p50 {percentile(millis, 0.5):.1f} ms, "
              f"p99 {percentile(millis, 0.99):.1f} ms, mean "
              f"{statistics.fmean(millis) if millis else 0:.1f} ms (goal p99 <= 25 ms)")
        print(f"messages in the broker queue tds.products: {broker.llen('tds.products')}")
    finally:
        broker.flushdb()
        broker.close()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
