"""Benchmark: full sync of N sandbox items into a scratch Postgres database.

Prints records/s, the ratio to a COPY of the same rows into the same table
(goal >= 0.3; the COPY is timed three times and the median taken, and a
CHECKPOINT comes before the sync and each COPY, so neither phase pays for
the other's writes) and the syncing process's peak RSS after 10k records and at
the end (goal < 300 MB, flat). The sandbox runs in its own process with its
limits lifted. The rate budget is in Redis, as in a production deployment
(REDIS_URL set); ``--redis-url ''`` measures the database budget instead.
Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

import redis
from sqlalchemy import create_engine

from bench.support import ADMIN_URL, checkpoint, scratch_database
from tds.config import Settings
from tds.db.session import Database
from tds.entities import BY_NAME
from tds.sandbox import SandboxConfig, SandboxServer
from tds.sync import iter_sync
from tds.zoho import UnifiedZohoClient


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def serve_sandbox(items: int, ready: Connection) -> None:
    config = SandboxConfig(items=items, contacts=10, invoices=0, bills=0, creditnotes=0,
                           salesorders=0, pricebooks=0, inventory_adjustments=0,
                           rate_limit_per_min=10**9, daily_limit=10**9)
    server = SandboxServer(config).start()
    ready.send((server.accounts_url, server.api_base_url, config.organization_id))
    ready.recv()  # until told to stop
    server.stop()


def run_sync(url: str, redis_url: str | None, accounts: str, api: str, org: str,
             out: Connection) -> None:
    settings = Settings(env="test", database_url=url, redis_url=redis_url,
                        zoho_client_id="1000.SANDBOXCLIENT",
                        zoho_client_secret="sandbox-secret",
                        zoho_refresh_token="1000.sandbox.refresh",
                        zoho_organization_id=org, zoho_accounts_url=accounts,
                        zoho_api_base_url=api, zoho_rate_limit_per_min=10**9,
                        zoho_daily_limit=10**9, testing=True)
    database = Database(url)
    client = UnifiedZohoClient(settings, database)
    rss_at_10k = 0.0
    started = time.perf_counter()
    report: Any = None
    for report in iter_sync(database, client, BY_NAME["products"], org, "full"):
        if not rss_at_10k and report.seen >= 10_000:
            rss_at_10k = peak_rss_mb()
    out.send((report.seen, time.perf_counter() - started, rss_at_10k, peak_rss_mb()))


def copy_rates(url: str, runs: int) -> tuple[int, list[float]]:
    """Export the synced rows, then `runs` times: empty the table, checkpoint, time
    COPY FROM of the same rows. The row count and each run's rows/s."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        exported = io.StringIO()
        cursor.copy_expert("COPY products TO STDOUT", exported)
        rows = exported.getvalue().count("\n")
        rates = []
        for _ in range(runs):
            cursor.execute("TRUNCATE products")
            raw.commit()
            checkpoint(url)
            exported.seek(0)
            started = time.perf_counter()
            cursor.copy_expert("COPY products FROM STDIN", exported)
            raw.commit()
            rates.append(rows / (time.perf_counter() - started))
        return rows, rates
    finally:
        raw.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--copy-runs", type=int, default=3,
                        help="COPY baseline runs; the median is the baseline (3)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12",
                        help="the rate budget's Redis (emptied first); '' for the database")
    args = parser.parse_args()
    if args.redis_url:
        redis.Redis.from_url(args.redis_url).flushdb()
    with scratch_database(args.admin_url, "tds_bench") as url:
        run(args, url)


def run(args: argparse.Namespace, url: str) -> None:
    """Sync the sandbox's items into `url`, COPY the same rows, print the figures."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    sandbox = ctx.Process(target=serve_sandbox, args=(args.items, theirs))
    try:
        sandbox.start()
        accounts, api, org = ours.recv()
        result_ours, result_theirs = ctx.Pipe()
        syncer = ctx.Process(target=run_sync, args=(url, args.redis_url or None, accounts, api,
                                                    org, result_theirs))
        checkpoint(url)
        syncer.start()
        seen, seconds, rss_10k, rss_end = result_ours.recv()
        syncer.join()
        rows, copy_runs = copy_rates(url, args.copy_runs)
        sync_rate, copy_per_s = seen / seconds, statistics.median(copy_runs)
        print(f"items synced:        {seen:,} in {seconds:.1f} s")
        print(f"sync rate:           {sync_rate:,.0f} records/s")
        print(f"COPY rate:           {copy_per_s:,.0f} records/s ({rows:,} rows; median of "
              f"{', '.join(f'{rate:,.0f}' for rate in copy_runs)})")
        print(f"ratio sync/COPY:     {sync_rate / copy_per_s:.3f}  (goal >= 0.3)")
        print(f"peak RSS at 10k:     {rss_10k:.0f} MB")
        print(f"peak RSS at {seen // 1000}k:    {rss_end:.0f} MB  (goal < 300 MB, flat)")
    finally:
        ours.send("stop")
        sandbox.join(30)


if __name__ == "__main__":
    main()
