"""The schedule fits the day's quota, keeps the reserve, and says what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tds.config import ConfigError, Settings, load_settings
from tds.db.models import SyncState
from tds.plan import due_jobs, make_plan


def state(entity: str, records: int, calls: int, **runs: datetime) -> SyncState:
    return SyncState(organization_id="o", entity=entity, details={
        "records": records, "calls:incremental": calls}, **runs)


def sized(records: int) -> dict[str, SyncState]:
    names = ("customers", "invoices", "bills", "credit_notes", "stock", "prices")
    return {name: state(name, records, max(1, records // 200)) for name in names}


def test_the_smallest_plan_fits_with_the_reserve_intact() -> None:
    plan = make_plan(Settings(zoho_daily_limit=1000), sized(150))
    assert plan.reserve == 300
    assert plan.fits
    assert plan.scheduled_calls <= 700
    assert "products" not in {job.entity for job in plan.jobs}  # carried by the /items pass


def test_a_larger_organization_stretches_every_interval_alike() -> None:
    plan = make_plan(Settings(zoho_daily_limit=1000), sized(2000))  # ten pages a listing
    assert plan.stretched_by > 1
    assert plan.fits
    stock = plan.job("stock", "incremental")
    assert stock.every_seconds == pytest.approx(300 * plan.stretched_by)
    assert plan.job("invoices", "reconcile").every_seconds == 86400  # still nightly


def test_zohos_limit_replaces_the_configured_one() -> None:
    plan = make_plan(Settings(zoho_daily_limit=1000), sized(2000), daily_limit=10_000)
    assert (plan.daily_limit, plan.limit_from_zoho, plan.stretched_by) == (10_000, True, 1.0)
    assert "X-Rate-Limit-Limit" in plan.describe()[0]


def test_what_is_due() -> None:
    settings = Settings(reconcile_hour_utc=2)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    fresh = {"invoices": state("invoices", 10, 1, last_incremental_at=now - timedelta(minutes=5),
                               last_reconcile_at=now - timedelta(hours=3))}
    plan = make_plan(settings, fresh)
    due = {(job.entity, job.mode) for job in due_jobs(plan, settings, fresh, now)}
    assert ("invoices", "incremental") not in due  # ran five minutes ago, hourly
    assert ("invoices", "reconcile") not in due  # ran after 02:00 today
    assert ("customers", "incremental") in due  # never ran
    assert ("customers", "reconcile") in due


def test_settings_that_would_run_a_task_twice_are_refused(tmp_path: Path) -> None:
    environ = {"TDS_VAR_DIR": str(tmp_path), "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
               "TDS_VISIBILITY_TIMEOUT_SECONDS": "60", "TDS_RETRY_BACKOFF_MAX_SECONDS": "900"}
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)
    message = str(raised.value)
    assert "TDS_VISIBILITY_TIMEOUT_SECONDS=60" in message
    assert "TDS_RETRY_BACKOFF_MAX_SECONDS=900" in message
    assert load_settings({**environ, "TDS_VISIBILITY_TIMEOUT_SECONDS": "3600"})
