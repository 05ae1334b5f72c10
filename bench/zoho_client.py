"""Benchmark: 4 processes page through 100,000 sandbox items under one shared budget.

Prints the achieved request rate as a fraction of the (time-scaled) rate
limit (goal >= 0.95), the 429s received (goal 0), pages and wall time.
Figures only, no assertions. Needs Redis (the shared budget) and, unless
--sandbox-url names a running one, starts the real sandbox (tds.sandbox) in
this process and also reports what it counted.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import random
import tempfile
import time
from dataclasses import dataclass

from tds.config import SANDBOX_CREDENTIALS, Settings
from tds.db.models import Base
from tds.db.session import Database
from tds.sandbox import SandboxConfig, SandboxServer
from tds.zoho import UnifiedZohoClient

PER_PAGE = 200


@dataclass(frozen=True)
class WorkerResult:
    pages: int
    calls: int
    throttled: int
    first_call: float
    last_call: float


class _CallCounter(logging.Handler):
    """Counts the client's per-call log lines, and those answered 429."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = self.throttled = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.calls += 1
        self.throttled += getattr(record, "status", None) == 429


def worker(settings: Settings, index: int, workers: int, pages: int) -> WorkerResult:
    """Fetch pages index+1, index+1+workers, ... through the shared budget."""
    counter = _CallCounter()
    logging.getLogger("tds.zoho").addHandler(counter)
    logging.getLogger("tds.zoho").setLevel(logging.INFO)
    client = UnifiedZohoClient(settings, Database(settings.database_url))
    client.auth.token()
    first = time.time()
    fetched = 0
    for page in range(index + 1, pages + 1, workers):
        body = client.get("/items", {"page": page, "per_page": PER_PAGE})
        fetched += bool(body.get("items"))
    return WorkerResult(fetched, counter.calls, counter.throttled, first, time.time())


def start_sandbox(items: int, limit: int, time_factor: float) -> SandboxServer:
    """The real sandbox in a background thread, configured for the run.

    Started before the workers fork: they inherit its memory but not its thread.
    """
    config = SandboxConfig(items=items, rate_limit_per_min=limit, time_factor=time_factor,
                           daily_limit=10 * items,
                           # An organization of its own: no Redis budget shared with other runs.
                           organization_id=str(random.randrange(10**10, 10**11)))
    return SandboxServer(config).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rate-limit", type=int, default=100, help="Zoho's calls per minute")
    parser.add_argument("--time-factor", type=float, default=20.0,
                        help="sandbox clock speed-up (20: the minute lasts 3 s)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--redis-url",
                        default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--sandbox-url", help="a running sandbox started with the same figures")
    args = parser.parse_args()

    server = None
    credentials = dict(SANDBOX_CREDENTIALS)
    if args.sandbox_url:
        base = args.sandbox_url.rstrip("/")
    else:
        server = start_sandbox(args.items, args.rate_limit, args.time_factor)
        base = server.base_url
        credentials["zoho_organization_id"] = server.config.organization_id
    database_url = f"sqlite:///{tempfile.mkdtemp(prefix='tds-bench-')}/bench.sqlite3"
    Base.metadata.create_all(Database(database_url).engine)
    scaled_limit = args.rate_limit * args.time_factor
    settings = Settings(
        database_url=database_url, redis_url=args.redis_url, testing=False,
        zoho_client_id=credentials["zoho_client_id"],
        zoho_client_secret=credentials["zoho_client_secret"],
        zoho_refresh_token=credentials["zoho_refresh_token"],
        zoho_organization_id=credentials["zoho_organization_id"],
        zoho_accounts_url=base, zoho_api_base_url=f"{base}/books/v3",
        zoho_rate_limit_per_min=math.ceil(scaled_limit), zoho_daily_limit=10 * args.items,
        zoho_budget_wait_seconds=60.0,
    )
    pages = math.ceil(args.items / PER_PAGE)
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        results = pool.starmap(worker, [(settings, i, args.workers, pages)
                                        for i in range(args.workers)])
    wall = time.monotonic() - started
    calls = sum(r.calls for r in results)
    span = max(r.last_call for r in results) - min(r.first_call for r in results)
    achieved = calls / span * 60
    print(f"pages fetched:        {sum(r.pages for r in results)} of {pages}")
    print(f"calls made:           {calls} ({args.workers} processes)")
    print(f"wall time:            {wall:.1f} s")
    print(f"scaled limit:         {scaled_limit:.0f}/min ({args.rate_limit}/min x "
          f"{args.time_factor:g})")
    print(f"achieved rate:        {achieved:.0f}/min = {achieved / scaled_limit:.3f} of the "
          "limit (goal >= 0.95)")
    print(f"429 answers received: {sum(r.throttled for r in results)} (goal 0)")
    if server is not None:
        stats = server.admin.stats()
        print(f"sandbox counted:      {stats['requests']} calls, {stats['rate_limited']} "
              f"answered 429, {stats.get('token_grants', 0)} token grant(s), "
              f"statuses {stats['status']}")
        server.stop()


if __name__ == "__main__":
    main()
