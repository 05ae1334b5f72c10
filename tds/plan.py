"""A sync schedule that fits the organization's daily quota.

Zoho allows a number of calls a day (``zoho-books-api.md``: 1,000 on the
smallest plan, and a real organization's headers may say less than its plan's
table). The plan takes that limit (Zoho's ``X-Rate-Limit-Limit`` once seen,
else ``ZOHO_DAILY_LIMIT``), keeps a reserve for webhook fetches and orders
(``TDS_QUOTA_RESERVE``, 30%), gives the nightly reconciles what they need, and
spreads the rest over the incremental passes: each wants its interval (inventory
often, the rest hourly); when their calls would not fit, every interval is
stretched by the same factor until they do. An entity another one's pass
carries (products, on the stock pass over ``/items``) has no pass of its own.
Costs come from the last runs: the records a whole pass listed, the calls an
incremental pass made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tds.config import Settings
from tds.db.models import SyncState
from tds.entities import CARRIED_BY, ENTITIES, Entity

DAY = 86400.0
PAGE = 200  # records a list page carries (per_page's maximum)


@dataclass(frozen=True)
class PlannedJob:
    """One scheduled pass: how often it runs and what a run costs, in calls."""

    entity: str
    mode: str  # incremental or reconcile (nightly)
    every_seconds: float
    calls_per_run: float

    @property
    def calls_per_day(self) -> float:
        return self.calls_per_run * DAY / self.every_seconds


@dataclass(frozen=True)
class Plan:
    """The day's quota and how the scheduled passes share it."""

    daily_limit: int
    limit_from_zoho: bool
    reserve: int
    jobs: tuple[PlannedJob, ...]
    stretched_by: float  # 1.0 when every pass runs as often as it wants

    @property
    def scheduled_calls(self) -> float:
        return sum(job.calls_per_day for job in self.jobs)

    @property
    def fits(self) -> bool:
        return self.scheduled_calls <= self.daily_limit - self.reserve + 0.5

    def job(self, entity: str, mode: str) -> PlannedJob:
        return next(job for job in self.jobs if (job.entity, job.mode) == (entity, mode))

    def to_json(self) -> dict[str, Any]:
        return {"daily_limit": self.daily_limit, "limit_from_zoho": self.limit_from_zoho,
                "reserve": self.reserve, "scheduled_calls": round(self.scheduled_calls),
                "fits": self.fits, "stretched_by": round(self.stretched_by, 3),
                "jobs": [{"entity": job.entity, "mode": job.mode,
                          "every_seconds": round(job.every_seconds),
                          "calls_per_run": job.calls_per_run,
                          "calls_per_day": round(job.calls_per_day)} for job in self.jobs]}

    def describe(self) -> list[str]:
        """The plan as lines a person reads (``tds config show``, ``tds status``)."""
        source = "Zoho's X-Rate-Limit-Limit" if self.limit_from_zoho else "ZOHO_DAILY_LIMIT"
        lines = [f"daily quota {self.daily_limit} calls ({source}); reserve {self.reserve} "
                 "for webhook fetches and orders (TDS_QUOTA_RESERVE)"]
        for job in self.jobs:
            lines.append(f"  {job.entity:<13} {job.mode:<11} every {_every(job.every_seconds):>8}"
                         f"  ~{job.calls_per_run:.0f} calls a run, ~{job.calls_per_day:.0f} a day")
        verdict = "fits" if self.fits else "DOES NOT FIT: raise the plan or the intervals"
        stretch = (f"; intervals stretched x{self.stretched_by:.2f} to fit"
                   if self.stretched_by > 1 else "")
        lines.append(f"scheduled ~{self.scheduled_calls:.0f} calls a day of "
                     f"{self.daily_limit - self.reserve}: {verdict}{stretch}")
        return lines


def make_plan(settings: Settings, states: Mapping[str, SyncState],
              daily_limit: int | None = None) -> Plan:
    """The plan for `settings`, sized from the entities' `states`; `daily_limit` is
    Zoho's figure once seen (None: ZOHO_DAILY_LIMIT)."""
    limit = daily_limit or settings.zoho_daily_limit
    reserve = math.ceil(limit * settings.quota_reserve)
    scheduled = [entity for entity in ENTITIES if entity.name not in CARRIED_BY]
    nightly = [PlannedJob(entity.name, "reconcile", DAY, _listing_calls(entity, states))
               for entity in scheduled]
    wanted = [(entity, _wanted_interval(settings, entity), _incremental_calls(entity, states))
              for entity in scheduled]
    room = limit - reserve - sum(job.calls_per_day for job in nightly)
    demand = sum(calls * DAY / every for _, every, calls in wanted)
    stretch = max(1.0, demand / room) if room > 0 else math.inf
    incremental = [PlannedJob(entity.name, "incremental", min(DAY, every * stretch), calls)
                   for entity, every, calls in wanted]
    return Plan(limit, daily_limit is not None, reserve, (*incremental, *nightly), stretch)


def due_jobs(plan: Plan, settings: Settings, states: Mapping[str, SyncState],
             now: datetime | None = None) -> list[PlannedJob]:
    """The jobs whose time has come: an incremental pass its interval after the last
    one (at once the first time), a reconcile once a day after TDS_RECONCILE_HOUR_UTC."""
    now = now or datetime.now(UTC)
    due = []
    for job in plan.jobs:
        state = states.get(job.entity)
        if job.mode == "incremental":
            last = state.last_incremental_at if state else None
            if last is None or now - last >= timedelta(seconds=job.every_seconds):
                due.append(job)
            continue
        today = datetime.combine(now.date(), time(settings.reconcile_hour_utc), UTC)
        moment = today if now >= today else today - timedelta(days=1)
        last = state.last_reconcile_at if state else None
        if last is None or last < moment:
            due.append(job)
    return due


def _wanted_interval(settings: Settings, entity: Entity) -> float:
    return float(settings.inventory_sync_interval_seconds if entity.inventory
                 else settings.entity_sync_interval_seconds)


def _listing_calls(entity: Entity, states: Mapping[str, SyncState]) -> float:
    """A whole listing: its pages, by the records the last whole pass saw."""
    state = states.get(entity.name)
    records = state.details.get("records") if state else None
    return float(max(1, math.ceil((records or 0) / PAGE)))


def _incremental_calls(entity: Entity, states: Mapping[str, SyncState]) -> float:
    """What the last incremental pass cost, else a whole listing (the first one is)."""
    state = states.get(entity.name)
    last = state.details.get("calls:incremental") if state else None
    return float(max(1, last)) if last else _listing_calls(entity, states)


def _every(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"
