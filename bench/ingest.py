"""Webhook ingest benchmark: the TDS receiver against the receiver a user would
otherwise write, and a bare Flask app, all under the same gunicorn settings.

Starts, one at a time and under the same gunicorn settings: a bare Flask app
answering 202; the naive receiver (Flask, an HMAC check, Celery's stock
``send_task``, nothing stored); and the TDS receiver on a scratch Postgres
database (``tds_bench_ingest``), each publishing to a Redis broker. Drives each
as fast as it answers with signed, distinct webhooks over keep-alive connections
for a bounded time; then offers the TDS receiver half its measured maximum at a
fixed rate and records latency. A CHECKPOINT comes before each timed run, so
none pays for the previous run's writes. Prints figures only (goals: TDS/naive
>= 1.0, p99 <= 25 ms at half load); asserts nothing. Everything listens on
127.0.0.1.

The client shares the machine's cores with the servers, so it must cost
little: every request is signed beforehand, and the maximum load comes
from wrk (``apt-get install wrk``) with ``ingest.lua`` when it is
installed, else from Python threads. The fixed-rate run is Python at
half the load, open loop: each connection keeps a schedule, and latency
counts from the scheduled send, so a slow answer is charged for the
sends it delays too.

    .venv/bin/python -m bench.ingest --duration 5
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, Response, jsonify, request  # noqa: E402 - after the path is set.
from sqlalchemy.engine import make_url  # noqa: E402

from bench.support import (  # noqa: E402
    ADMIN_URL,
    checkpoint,
    percentile,
    scratch_database,
    stop_group,
)

SECRET = "benchsecret0123456789"
PATH = "/api/zoho/webhooks/products"
WRK_SCRIPT = ROOT / "bench" / "ingest.lua"
WRK_THREADS = 1  # one epoll loop drives the connections; the cores are for the servers
# Distinct events written per second of a maximum-load run (above any rate seen here).
REQUESTS_PER_SECOND = 8000


def bare_app() -> Flask:
    """The baseline: the same route answering 200 without doing anything."""
    app = Flask("bare")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.post(PATH)
    def receive() -> tuple[Response, int]:
        return jsonify(accepted=True), 202

    return app


def naive_app() -> Flask:
    """The receiver a user would otherwise write: check the HMAC, hand the record to
    Celery with its stock ``send_task``, store nothing (an event the broker does not
    take is lost)."""
    from celery import Celery

    celery = Celery("naive", broker=os.environ["CELERY_BROKER_URL"])
    app = Flask("naive")
    secret = os.environ["TDS_WEBHOOK_SECRET"].encode()

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.post(PATH)
    def receive() -> tuple[Response, int]:
        body = request.get_data()
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected,
                                   request.headers.get("X-Zoho-Webhook-Signature", "")):
            return jsonify(error="bad signature"), 401
        record = json.loads(body)["item"]
        celery.send_task("tds.products.apply_event", args=[record], queue="tds.products")
        return jsonify(accepted=True), 202

    return app


@dataclass
class Tally:
    """Answers and latencies from a load run."""

    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)
    scheduled: list[float] = field(default_factory=list)  # when each 2xx was due (monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, latency: float, service_time: float, due: float) -> None:
        with self.lock:
            if 200 <= status < 300:
                self.ok += 1
                self.latencies.append(latency)
                self.service_times.append(service_time)
                self.scheduled.append(due)
            else:
                self.failed += 1


SignedRequest = tuple[bytes, str]  # body, X-Zoho-Webhook-Signature
_ids = itertools.count(time.time_ns() // 1000)  # distinct across runs


def signed_requests(count: int) -> list[SignedRequest]:
    """`count` distinct product webhooks signed with Zoho's scheme."""
    from tds.signatures import sign_zoho

    requests: list[SignedRequest] = []
    for _ in range(count):
        record = {"item_id": str(next(_ids)), "name": "Bench widget", "rate": 9.5,
                  "last_modified_time": "2023-11-18T02:02:51-0800"}
        body = json.dumps({"item": record}).encode()
        requests.append((body, sign_zoho(SECRET, body)))
    return requests


def drive(port: int, threads: int, duration: float, rate: float | None,
          requests: Sequence[SignedRequest]) -> Tally:
    """Send `requests` for `duration` s: as fast as answered, or `rate`/s overall.

    At a fixed rate each connection sends on its own schedule, and latency
    counts from the scheduled moment (open loop: no coordinated omission).
    """
    tally = Tally()
    stop = time.monotonic() + duration
    interval = threads / rate if rate else 0.0
    start = time.monotonic()

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        scheduled = start + index * interval / threads
        for body, signature in itertools.islice(requests, index, None, threads):
            now = time.monotonic()
            if now >= stop:
                break
            if interval:
                if scheduled > now:
                    time.sleep(scheduled - now)
            else:
                scheduled = now
            sent = time.monotonic()
            try:
                connection.request("POST", PATH, body=body, headers={
                    "Content-Type": "application/json", "X-Zoho-Webhook-Signature": signature})
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            done = time.monotonic()
            tally.add(status, done - scheduled, done - sent, scheduled)
            scheduled += interval
        connection.close()

    workers = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tally


@dataclass
class MaxLoad:
    """What a maximum-load run got: 2xx answers, others, and whether events repeated."""

    ok: int
    failed: int
    seconds: float
    repeated: bool

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


def wrk_run(port: int, args: argparse.Namespace, duration: float,
            requests: Sequence[SignedRequest], scratch: Path) -> MaxLoad:
    """Drive `port` with wrk for `duration` s over `requests` (written to a file first)."""
    requests_file = scratch / f"requests-{port}-{time.monotonic_ns()}.txt"
    with requests_file.open("wb") as out:
        for body, signature in requests:
            out.write(signature.encode() + b" " + body + b"\n")
    command = ["wrk", "-t", str(WRK_THREADS), "-c", str(args.connections),
               "-d", f"{duration:.0f}s", "--timeout", "10s", "-s", str(WRK_SCRIPT),
               f"http://127.0.0.1:{port}{PATH}"]
    env = {**os.environ, "TDS_BENCH_REQUESTS": str(requests_file),
           "TDS_BENCH_THREADS": str(WRK_THREADS)}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True,
                            timeout=duration + 30).stdout
    requests_file.unlink()
    total = re.search(r"(\d+) requests in ([\d.]+)(m?s)", output)
    if total is None:
        raise SystemExit(f"wrk printed no request count:\n{output}")
    count = int(total.group(1))
    seconds = float(total.group(2)) / (1000 if total.group(3) == "ms" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(value) for value in errors.groups()) if errors else 0)
    return MaxLoad(count - failed, failed, seconds, repeated=count > len(requests))


def gunicorn(app_spec: str, port: int, args: argparse.Namespace,
             env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", app_spec, "--bind", f"127.0.0.1:{port}",
               "--workers", str(args.workers), "--worker-class", args.worker_class,
               "--threads", str(args.threads), "--keep-alive", "30",
               # A listening socket per worker: the kernel spreads connections over the
               # workers. With one shared socket the first worker to wake takes every
               # keep-alive connection, and the other core idles.
               "--reuse-port",
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


def measure(name: str, start: Callable[[], subprocess.Popen[bytes]], port: int,
            args: argparse.Namespace, scratch: Path, database_url: str) -> float:
    """The most 2xx answers per second `start`'s server gives, after a warm-up."""
    warm_up = min(1.0, args.duration)
    process = start()
    try:
        wait_ready(port, process)
        if args.client == "wrk":
            wrk_run(port, args, warm_up, signed_requests(int(REQUESTS_PER_SECOND * warm_up)),
                    scratch)
            checkpoint(database_url)
            run = wrk_run(port, args, args.duration,
                          signed_requests(int(REQUESTS_PER_SECOND * args.duration)), scratch)
        else:
            drive(port, args.connections, warm_up, None,
                  signed_requests(int(REQUESTS_PER_SECOND * warm_up)))
            checkpoint(database_url)
            tally = drive(port, args.connections, args.duration, None,
                          signed_requests(int(REQUESTS_PER_SECOND * args.duration)))
            run = MaxLoad(tally.ok, tally.failed, args.duration, repeated=False)
    finally:
        stop_group(process, timeout=10)
    print(f"{name:<8} max load: {run.rate:8.0f} 2xx answers/s  ({run.ok} ok, {run.failed} "
          f"failed, {args.connections} connections, {run.seconds:.1f} s, {args.client})")
    if run.repeated:
        print(f"  warning: more requests than the {int(REQUESTS_PER_SECOND * args.duration)} "
              "distinct events written; repeats were answered as duplicates")
    return run.rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run (5)")
    parser.add_argument("--connections", type=int, default=16,
                        help="keep-alive client connections at max load (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--admin-url", default=ADMIN_URL,
                        help="Postgres URL used to create and drop the scratch database")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14", help="Redis broker")
    parser.add_argument("--receiver-port", type=int, default=18081)
    parser.add_argument("--bare-port", type=int, default=18082)
    parser.add_argument("--naive-port", type=int, default=18083)
    parser.add_argument("--client", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python",
                        help="maximum-load client (wrk when installed)")
    args = parser.parse_args()
    with scratch_database(args.admin_url, "tds_bench_ingest") as database_url:
        run(args, database_url)


def run(args: argparse.Namespace, database_url: str) -> None:
    """Measure the receiver and the bare app on `database_url`, print the figures."""
    import redis

    broker = redis.Redis.from_url(args.broker)
    broker.flushdb()
    var_dir = tempfile.mkdtemp(prefix="tds-bench-ingest-")
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": args.broker,
           "TDS_WEBHOOK_SECRET": SECRET, "TDS_API_KEYS": "bench", "TDS_VAR_DIR": var_dir,
           "TDS_ENV": "test", "TDS_LOG_LEVEL": "INFO"}
    print(f"gunicorn: {args.workers} x {args.worker_class} workers, {args.threads} threads; "
          f"Postgres {make_url(database_url).database}, broker {args.broker}; "
          f"CPUs: {os.cpu_count()}")
    try:
        bare = measure("bare", lambda: gunicorn("ingest:bare_app()", args.bare_port, args, env),
                       args.bare_port, args, Path(var_dir), database_url)
        naive = measure("naive", lambda: gunicorn("ingest:naive_app()", args.naive_port, args,
                                                  env),
                        args.naive_port, args, Path(var_dir), database_url)
        broker.flushdb()
        receiver = measure("TDS", lambda: gunicorn("webhooks_app:create_app()",
                                                   args.receiver_port, args, env),
                           args.receiver_port, args, Path(var_dir), database_url)
        print(f"ratio TDS/naive: {receiver / naive:.2f} (goal >= 1.0); TDS/bare: "
              f"{receiver / bare:.2f}; naive/bare: {naive / bare:.2f}")
        half = receiver / 2
        process = gunicorn("webhooks_app:create_app()", args.receiver_port, args, env)
        try:
            wait_ready(args.receiver_port, process)
            warm_up = min(1.0, args.duration)
            drive(args.receiver_port, args.connections, warm_up, half,
                  signed_requests(int(half * warm_up) + 2 * args.connections))
            checkpoint(database_url)
            tally = drive(args.receiver_port, args.connections, args.duration, half,
                          signed_requests(int(half * args.duration) + 2 * args.connections))
        finally:
            stop_group(process, timeout=10)
        millis = [value * 1000 for value in tally.latencies]
        service = [value * 1000 for value in tally.service_times]
        print(f"TDS at half load ({half:.0f} req/s offered, {tally.ok / args.duration:.0f} "
              f"2xx/s, {tally.failed} failed), from the scheduled send: p50 "
              f"{percentile(millis, 0.5):.1f} ms, p90 {percentile(millis, 0.9):.1f} ms, "
              f"p99 {percentile(millis, 0.99):.1f} ms, p99.9 {percentile(millis, 0.999):.1f} ms, "
              f"max {max(millis, default=0):.1f} ms, mean "
              f"{statistics.fmean(millis) if millis else 0:.1f} ms (goal p99 <= 25 ms); "
              f"from the actual send: p99 {percentile(service, 0.99):.1f} ms")
        print(f"messages in the broker queue tds.products: {broker.llen('tds.products')}")
    finally:
        broker.flushdb()
        broker.close()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
