"""Benchmark: 4 processes page through 100,000 sandbox items under one shared budget.

Prints the achieved request rate as a fraction of the (time-scaled) rate
limit (goal >= 0.95), the 429s received (goal 0), pages and wall time.
Figures only, no assertions. Needs Redis (the shared budget) and, unless
--sandbox-url names a running one, starts the real sandbox (tds.sandbox) in
this process and also reports what it counted.

With ``--competitor-share 0.5`` another client, which TDS knows nothing of,
spends that share of the organization's minute budget meanwhile (as another
app on the same organization would): the run then reports TDS's achieved share
of the limit, the 429s it met, and pages it had to read again (a pass resumes
them) or could not read at all (goal: none).
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass

import requests

from tds.config import SANDBOX_CREDENTIALS, Settings
from tds.db.models import Base
from tds.db.session import Database
from tds.sandbox import SandboxConfig, SandboxServer
from tds.zoho import UnifiedZohoClient, ZohoRateLimitError

PER_PAGE = 200
PAGE_TRIES = 20  # a refused page is read again, as a pass resumes it


@dataclass(frozen=True)
class WorkerResult:
    pages: int
    calls: int
    throttled: int
    first_call: float
    last_call: float
    reread: int  # pages a refused call made us read again (a pass's resume)
    failed: int  # pages never read


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
    client.on_wait = lambda reason, seconds: None  # a 429's wait is counted, not printed
    client.auth.token()
    first = time.time()
    fetched = reread = failed = 0
    for page in range(index + 1, pages + 1, workers):
        for _ in range(PAGE_TRIES):
            try:
                body = client.get("/items", {"page": page, "per_page": PER_PAGE})
            except ZohoRateLimitError:
                reread += 1
                continue
            fetched += bool(body.get("items"))
            break
        else:
            failed += 1
    return WorkerResult(fetched, counter.calls, counter.throttled, first, time.time(),
                        reread, failed)


def competitor(base: str, organization_id: str, per_minute: float, stop: threading.Event,
               counted: list[int]) -> None:
    """Another app on the organization: spends `per_minute` calls of its budget."""
    session = requests.Session()
    token = session.post(f"{base}/oauth/v2/token", data={
        "grant_type": "refresh_token", "client_id": SANDBOX_CREDENTIALS["zoho_client_id"],
        "client_secret": SANDBOX_CREDENTIALS["zoho_client_secret"],
        "refresh_token": SANDBOX_CREDENTIALS["zoho_refresh_token"]}, timeout=10,
    ).json()["access_token"]
    due = time.monotonic()
    while not stop.is_set():
        answer = session.get(f"{base}/books/v3/organizations/{organization_id}",
                             params={"organization_id": organization_id}, timeout=10,
                             headers={"Authorization": f"Zoho-oauthtoken {token}"})
        counted[0] += answer.status_code == 200
        due += 60.0 / per_minute
        stop.wait(max(0.0, due - time.monotonic()))


def start_sandbox(items: int, limit: int, time_factor: float) -> SandboxServer:
    """The real sandbox in a background thread, configured for the run.

    Started before the workers fork: they inherit its memory but not its thread. Its
    minute is `time_factor` times shorter than Zoho's, so its 429s say when the window
    frees (Retry-After): TDS would otherwise wait out a real minute.
    """
    config = SandboxConfig(items=items, rate_limit_per_min=limit, time_factor=time_factor,
                           daily_limit=10 * items, retry_after_window=True,
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
    parser.add_argument("--competitor-share", type=float, default=0.0,
                        help="share of the minute budget another client spends (0.5: half)")
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
        # The sandbox's minute lasts 60 / time_factor seconds: the same limit, in its window.
        zoho_rate_limit_per_min=args.rate_limit,
        zoho_rate_window_seconds=60 / args.time_factor, zoho_daily_limit=10 * args.items,
        zoho_budget_wait_seconds=60.0,
    )
    pages = math.ceil(args.items / PER_PAGE)
    stop, other_calls = threading.Event(), [0]
    other = threading.Thread(target=competitor, daemon=True, args=(
        base, credentials["zoho_organization_id"], scaled_limit * args.competitor_share, stop,
        other_calls))
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        if args.competitor_share > 0:
            other.start()
        results = pool.starmap(worker, [(settings, i, args.workers, pages)
                                        for i in range(args.workers)])
    wall = time.monotonic() - started
    stop.set()
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
    print(f"429 answers received: {sum(r.throttled for r in results)} (goal 0 without a "
          "competitor)")
    if args.competitor_share > 0:
        ours = sum(r.calls - r.throttled for r in results)
        print(f"competitor:           {other_calls[0]} calls answered "
              f"({args.competitor_share:.0%} of the limit wanted)")
        print(f"TDS's share:          {ours / span * 60 / scaled_limit:.3f} of the limit "
              f"(the competitor left {1 - args.competitor_share:.0%})")
        print(f"pages read again:     {sum(r.reread for r in results)}; pages never read: "
              f"{sum(r.failed for r in results)} (goal 0)")
    if server is not None:
        stats = server.admin.stats()
        print(f"sandbox counted:      {stats['requests']} calls, {stats['rate_limited']} "
              f"answered 429, {stats.get('token_grants', 0)} token grant(s), "
              f"statuses {stats['status']}")
        server.stop()


if __name__ == "__main__":
    main()
