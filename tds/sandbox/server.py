"""Running the sandbox: in a background thread for tests, or in the foreground.

``SandboxServer`` starts werkzeug's threaded server on a free port, so
concurrent clients work and many sandboxes can run side by side.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from types import TracebackType
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tds.sandbox.app import STATE_KEY, SandboxState, create_sandbox_app
from tds.sandbox.changes import emit_changes
from tds.sandbox.config import SandboxConfig

ADMIN_TIMEOUT_SECONDS = 60.0


class SandboxAdmin:
    """Typed helpers over the ``/__admin`` endpoints."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.base_url}/__admin/{path}",
                                      timeout=ADMIN_TIMEOUT_SECONDS, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change latency_ms, error_rate, drop_rate, drop_after_create;
        ``expire_tokens=True`` expires all."""
        result: dict[str, Any] = self._call("POST", "faults", json=settings)
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def reset_stats(self) -> None:
        self._call("POST", "reset-stats")

    def change(self, entity: str, count: int = 1) -> list[dict[str, str]]:
        """Edit ``count`` random records; returns their ids and new modified times."""
        result: list[dict[str, str]] = self._call(
            "POST", "change", json={"entity": entity, "count": count})["changed"]
        return result

    def delete(self, entity: str, ids: list[str], *, webhook: bool = False) -> list[str]:
        """Delete records; ``webhook=True`` sends their Deleted webhooks. Returns the ids
        that existed."""
        result: list[str] = self._call("POST", "delete", json={
            "entity": entity, "ids": ids, "webhook": webhook})["deleted"]
        return result

    def records(self, entity: str) -> dict[str, str]:
        result: dict[str, str] = self._call("GET", f"records/{entity}")
        return result

    def flush_webhooks(self, timeout: float = 30.0) -> bool:
        flushed: bool = self._call("POST", "flush-webhooks", params={"timeout": timeout})[
            "flushed"]
        return flushed

    def close(self) -> None:
        self.session.close()


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: tests make thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class SandboxServer:
    """A sandbox serving on 127.0.0.1 in a background thread; a context manager.

    It always binds a free port (``config.port`` is ignored) so tests can run
    many at once; ``.config`` and ``.base_url`` hold the real one.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        config = config or SandboxConfig()
        self.app = create_sandbox_app(config)
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler)
        self.config = replace(config, host="127.0.0.1", port=self.server.server_port)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.accounts_url = self.base_url
        self.api_base_url = f"{self.base_url}/books/v3"
        self.inventory_base_url = f"{self.base_url}/inventory/v1"
        self.admin = SandboxAdmin(self.base_url)
        # A short poll interval makes stop() quick; tests start and stop many servers.
        self.thread = threading.Thread(target=self.server.serve_forever, name="sandbox",
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def state(self) -> SandboxState:
        """The live store, tokens, limits and stats, for assertions."""
        found: SandboxState = self.app.extensions[STATE_KEY]
        return found

    def start(self) -> SandboxServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.state.emitter.close()
        self.admin.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def serve_forever(config: SandboxConfig, changes_per_second: float = 0.0,
                  changes_duration: float | None = None) -> None:
    """Serve in the foreground on ``config.host:config.port`` until interrupted,
    optionally running the change generator alongside."""
    app = create_sandbox_app(config)
    server = make_server(config.host, config.port, app, threaded=True)
    stop = threading.Event()
    if changes_per_second > 0:
        sandbox: SandboxState = app.extensions[STATE_KEY]
        threading.Thread(target=emit_changes, name="sandbox-changes", daemon=True,
                         args=(sandbox.mutator, changes_per_second, changes_duration, stop),
                         ).start()
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
