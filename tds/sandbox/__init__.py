"""The Zoho Books simulator: a stand-alone Flask app for demos, tests and
benchmarks. Nothing else in ``tds`` imports it (the CLI aside)."""

from tds.sandbox.app import SandboxState, create_sandbox_app
from tds.sandbox.config import SandboxConfig
from tds.sandbox.server import SandboxAdmin, SandboxServer

__all__ = ["SandboxAdmin", "SandboxConfig", "SandboxServer", "SandboxState",
           "create_sandbox_app"]
