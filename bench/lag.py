"""Benchmark: webhook-to-row latency with the sandbox emitting changes at a steady rate.

The sandbox (`tds sandbox serve --changes-per-second`) signs and posts each
change to the receiver (gunicorn), which stores and enqueues it; a real
Celery worker applies it to a scratch Postgres database. Prints the
latency from the receiver's insert to the worker's commit, p50/p95/p99
(goals p50 <= 50 ms, p99 <= 500 ms), and events lost (webhooks the
sandbox sent that never became processed inbox rows; goal 0). Figures only.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.support import ADMIN_URL, percentile, scratch_database, stack_env, stop_group
from tds.entities import ALL_QUEUES

SECRET = "benchsecret0123456789"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
        except requests.RequestException:
            time.sleep(0.2)
        else:
            return
    raise RuntimeError(f"{url} did not answer")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of changes")
    # The Procfile's worker by default.
    parser.add_argument("--concurrency", type=int, default=8, help="worker threads/processes")
    parser.add_argument("--pool", default="threads", help="worker pool (threads, prefork, solo)")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    with scratch_database(args.admin_url, "tds_lag") as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    """Start receiver, worker and sandbox on `url`, emit changes, print the lag."""
    name = make_url(url).database
    redis.Redis.from_url(args.redis_url).flushdb()
    sandbox_port, web_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = stack_env(url, args.redis_url, sandbox_url, TDS_WEBHOOK_SECRET=SECRET,
                    TDS_API_KEYS="bench")
    processes: list[subprocess.Popen[bytes]] = []
    log = open(f"/tmp/{name}.log", "wb")  # noqa: SIM115 - kept open for the children
    try:
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "--threads", "8", "-b", f"127.0.0.1:{web_port}",
             "webhooks_app.factory:create_app()"], env=env, stdout=log, stderr=log,
            start_new_session=True))
        processes.append(subprocess.Popen(
            [str(BIN / "celery"), "-A", "workers.make_celery", "worker", "-Q", ",".join(ALL_QUEUES),
             "--pool", args.pool, "-c", str(args.concurrency), "--without-gossip",
             "--without-mingle", "-l", "warning"], env=env, stdout=log, stderr=log,
            start_new_session=True))
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        time.sleep(3)  # the worker connects
        processes.append(subprocess.Popen(
            [str(BIN / "tds"), "sandbox", "serve", "--port", str(sandbox_port),
             "--items", "2000", "--rate-limit-per-min", "1000000", "--daily-limit", "100000000",
             "--webhook-url", f"http://127.0.0.1:{web_port}/api/zoho/webhooks",
             "--webhook-secret", SECRET, "--changes-per-second", str(args.rate),
             "--changes-duration", str(args.duration)], env=env, stdout=log, stderr=log,
            start_new_session=True))
        wait_http(f"{sandbox_url}/__admin/stats")
        time.sleep(args.duration)
        requests.post(f"{sandbox_url}/__admin/flush-webhooks", params={"timeout": 120},
                      timeout=130)
        sent = requests.get(f"{sandbox_url}/__admin/stats", timeout=10).json()
        engine = create_engine(url)
        deadline = time.monotonic() + 120
        with engine.connect() as connection:
            while time.monotonic() < deadline:
                pending = connection.execute(text(
                    "SELECT COUNT(*) FROM tds_inbox_events WHERE status <> 'processed'"
                )).scalar_one()
                connection.commit()
                if pending == 0:
                    break
                time.sleep(1)
            stages = connection.execute(text(
                "SELECT EXTRACT(EPOCH FROM processed_at - received_at), "
                "EXTRACT(EPOCH FROM queued_at - received_at) FROM tds_inbox_events "
                "WHERE status = 'processed'")).all()
            latencies = [float(total) * 1000 for total, _ in stages]
            queue_waits = [float(wait) * 1000 for _, wait in stages if wait is not None]
            stored = connection.execute(text("SELECT COUNT(*) FROM tds_inbox_events")).scalar_one()
        engine.dispose()
        accepted = sent.get("webhooks_status_202", 0)
        print(f"changes:        {args.rate:.0f}/s for {args.duration:.0f} s, worker --pool "
              f"{args.pool} -c {args.concurrency}")
        print(f"webhooks sent:  {sent.get('webhooks_sent', 0)} (202: {accepted}, "
              f"failed: {sent.get('webhooks_failed', 0)})")
        print(f"inbox rows:     {stored}, processed: {len(latencies)}")
        if latencies:
            print(f"latency p50:    {percentile(latencies, 0.50):.1f} ms  (goal <= 50)")
            print(f"latency p95:    {percentile(latencies, 0.95):.1f} ms")
            print(f"latency p99:    {percentile(latencies, 0.99):.1f} ms  (goal <= 500)")
            print(f"of which stored -> published: p50 {percentile(queue_waits, 0.50):.1f} ms, "
                  f"p99 {percentile(queue_waits, 0.99):.1f} ms")
        print(f"events lost:    {accepted - len(latencies)}  (goal 0)")
    finally:
        for process in reversed(processes):
            stop_group(process)
        log.close()


if __name__ == "__main__":
    main()
