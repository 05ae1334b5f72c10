"""Who a starting worker takes for gone (the end-to-end case is in test_resilience)."""

from __future__ import annotations

import subprocess
import sys

from tds.processes import this_process
from workers.recovery import gone_claimants


def test_its_own_name_and_unanswering_workers_are_gone() -> None:
    held = {"w1@a", "w2@b", "w3@c"}
    assert gone_claimants(held, "w1@a", alive={"w1@a", "w2@b"}) == {"w1@a", "w3@c"}


def test_without_an_answer_from_the_cluster_only_its_own_name_is_gone() -> None:
    assert gone_claimants({"w1@a", "w2@b"}, "w1@a", alive=None) == {"w1@a"}


def test_a_local_process_is_gone_only_once_it_has_exited() -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    host = this_process().rpartition(":")[0]
    exited = f"{host}:{ended.stdout.strip()}"
    assert gone_claimants({exited, this_process()}, "w1@a", alive=set()) == {exited}
