"""The shared budget on SQLite, Postgres and Redis: pacing, bounds, day quota, slots."""

from __future__ import annotations

import itertools
import time

import pytest

from tds.retry import is_transient
from tds.zoho.errors import ZohoRateLimitError
from tds.zoho.ratelimit import HEADROOM, DatabaseTokenBucket
from tests.fixtures.zoho import BudgetFactory


def test_reservations_queue_one_interval_apart(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60, zoho_budget_wait_seconds=30)
    interval = 60 / (60 * HEADROOM)
    waits = [budget._reserve(30.0).wait for _ in range(5)]
    # The first token is there; each later caller is booked one interval after the previous.
    assert waits[0] == 0
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(interval, abs=0.25)


def test_a_booking_beyond_the_wait_bound_is_refused(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=6, zoho_budget_wait_seconds=1)
    budget.acquire()
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert is_transient(raised.value)
    assert not raised.value.daily
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 1


def test_the_daily_quota_stops_calls(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=3)
    for _ in range(3):
        budget.acquire()
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 0


def test_zoho_headers_correct_the_day_count(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1000)
    budget.observe({"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "1",
                    "X-Rate-Limit-Reset": "600"})
    budget.acquire()  # the one call Zoho says is left
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily


def test_zoho_saying_none_remain_blocks_the_day(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1000)
    budget.observe({"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "600"})
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily


def test_answers_without_rate_headers_change_nothing(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1)
    budget.observe({"Content-Type": "application/json"})
    budget.acquire()  # the day's one call is still there
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily


def test_in_flight_calls_are_capped(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_max_concurrency=2, zoho_budget_wait_seconds=0.2)
    other_process = budget_factory(zoho_max_concurrency=2, zoho_budget_wait_seconds=0.2)
    with budget.slot(), other_process.slot(), pytest.raises(ZohoRateLimitError), budget.slot():
        pass
    with budget.slot():
        pass  # freed slots are usable again


def test_the_slots_of_a_holder_known_gone_are_freed_at_once(
        budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_max_concurrency=2, zoho_budget_wait_seconds=0.2)
    dead_worker = budget_factory(zoho_max_concurrency=2, zoho_budget_wait_seconds=0.2)
    dead_worker.holder = "w1@host"
    with dead_worker.slot(), dead_worker.slot():  # ... and the worker is killed here
        if isinstance(budget, DatabaseTokenBucket):  # a bare count: slots lapse with time
            assert (budget.slot_holders(), budget.release_slots({"w1@host"})) == (set(), 0)
            return
        assert budget.slot_holders() == {"w1@host"}
        assert budget.release_slots({"w2@host"}) == 0
        assert budget.release_slots({"w1@host"}) == 2
        with budget.slot():
            assert budget.slot_holders() == {budget.holder}


def test_a_smaller_zoho_quota_wins(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1000)
    budget.observe({"X-Rate-Limit-Limit": "3", "X-Rate-Limit-Remaining": "1",
                    "X-Rate-Limit-Reset": "600"})
    budget.acquire()  # Zoho's plan allows 3 a day and 2 are spent: one left
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily


def test_zohos_limit_replaces_the_configured_one_once_seen(
        budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=3)
    budget.observe({"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "996",
                    "X-Rate-Limit-Reset": "600"})
    for _ in range(10):  # ZOHO_DAILY_LIMIT=3 no longer stands: Zoho said 996 are left
        budget.acquire()
    budget.observe({"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": "7200"})
    with pytest.raises(ZohoRateLimitError) as raised:
        budget.acquire()
    assert raised.value.daily
    assert "1000 calls a day" in str(raised.value)  # Zoho's figure, not ZOHO_DAILY_LIMIT's
    assert raised.value.retry_after == pytest.approx(7200, abs=5)  # until Zoho's reset


def test_the_day_resets_when_zoho_said(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1000)
    budget.exhaust_day(1.0)  # code 45 with one second to the reset
    with pytest.raises(ZohoRateLimitError):
        budget.acquire()
    time.sleep(1.2)
    budget.acquire()  # reset: calls go again


def test_organizations_keep_their_own_quota(budget_factory: BudgetFactory) -> None:
    spent = budget_factory(zoho_rate_limit_per_min=60_000, zoho_organization_id="org-a")
    other = budget_factory(zoho_rate_limit_per_min=60_000, zoho_organization_id="org-b")
    spent.exhaust_day(3600)
    with pytest.raises(ZohoRateLimitError):
        spent.acquire()
    other.acquire()


def test_a_minute_refusal_pauses_every_process(budget_factory: BudgetFactory) -> None:
    refused = budget_factory(zoho_rate_limit_per_min=600, zoho_budget_wait_seconds=0.5)
    other_process = budget_factory(zoho_rate_limit_per_min=600, zoho_budget_wait_seconds=0.5)
    refused.pause(30)
    with pytest.raises(ZohoRateLimitError) as raised:
        other_process.acquire()
    assert not raised.value.daily
    assert raised.value.retry_after == pytest.approx(30, abs=1)


def test_the_day_quota_says_whose_figure_it_is(budget_factory: BudgetFactory) -> None:
    budget = budget_factory(zoho_rate_limit_per_min=60_000, zoho_daily_limit=1000)
    budget.acquire()
    before = budget.day_quota()
    assert (before.limit, before.used, before.from_zoho) == (1000, 1, False)
    budget.observe({"X-Rate-Limit-Limit": "5000", "X-Rate-Limit-Remaining": "4990",
                    "X-Rate-Limit-Reset": "3600"})
    after = budget.day_quota()
    assert (after.limit, after.used, after.from_zoho) == (5000, 10, True)
    assert after.resets_in == pytest.approx(3600, abs=5)
