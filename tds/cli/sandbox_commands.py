"""`tds sandbox …`: the built-in Zoho Books simulator."""

from __future__ import annotations

from tds.cli import main

# The sandbox is a stand-alone app; only the CLI reaches into it.
from tds.sandbox.cli import serve


@main.group()
def sandbox() -> None:
    """The built-in Zoho Books simulator, for demos, tests and benchmarks."""


sandbox.add_command(serve, "serve")
