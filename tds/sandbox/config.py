"""The sandbox's settings: one frozen object, built by the CLI or by tests.

The credential defaults are the ones ``tds.config`` falls back to when no
Zoho credentials are set, so an unconfigured TDS talks to a default
sandbox (``tds sandbox serve``) without further setup.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 8090
RATE_LIMIT_MESSAGE = (
    "You have made too many requests continuously. Please try again after some time."
)


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox run can be told: credentials, data sizes, limits, webhooks,
    faults.

    ``time_factor`` divides every limit window (the per-minute and daily API
    limits and the 10-minute token window), so benchmarks can exercise the
    limits quickly: 100 per minute with ``time_factor=60`` is 100 per second.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    client_id: str = "1000.SANDBOXCLIENT"
    client_secret: str = "sandbox-secret"  # noqa: S105 - the public demo credential.
    refresh_token: str = "1000.sandbox.refresh"  # noqa: S105 - the public demo credential.
    organization_id: str = "10234695"
    # Record counts generated at start.
    items: int = 50
    contacts: int = 50
    invoices: int = 50
    bills: int = 50
    creditnotes: int = 50
    salesorders: int = 20
    pricebooks: int = 5
    inventory_adjustments: int = 20
    # Limits.
    rate_limit_per_min: int = 100
    daily_limit: int = 10000
    token_ttl: int = 3600
    token_requests_per_10min: int = 10
    # Zoho's per-minute 429 body and Retry-After are unconfirmed, so both are settable.
    rate_limit_code: int = 44
    rate_limit_message: str = RATE_LIMIT_MESSAGE
    retry_after_seconds: int | None = None
    # Retry-After as the seconds until the minute window takes a call again: Zoho may
    # send none, and a client then waits out a real minute; a fast clock needs this.
    retry_after_window: bool = False
    seed: int = 42
    # Webhooks: base URL of the receiver; ``/<entity>`` is appended.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_scheme: str = "zoho"  # "zoho" or "standard"
    webhook_format: str = "json"  # "json" or "form" (a JSONString field)
    # How a Deleted workflow rule calls: "method" (a DELETE request), "param" (a POST with
    # <action_param>=deleted, edits then carrying <action_param>=edited) or "none".
    deleted_webhook: str = "method"
    action_param: str = "event"
    webhook_payload: str = "record"  # "record" or "id" (only the record's id)
    # Whether a stock movement moves the items' last_modified_time (unconfirmed at Zoho).
    stock_moves_stamp: bool = True
    # Faults.
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    # The next this many creates are stored, then their connection is dropped: the
    # client never learns that Zoho has the record (a lost answer).
    drop_after_create: int = 0
    time_factor: float = 1.0

    def __post_init__(self) -> None:
        if self.webhook_scheme not in {"zoho", "standard"}:
            raise ValueError("webhook_scheme must be 'zoho' or 'standard'.")
        if self.webhook_format not in {"json", "form"}:
            raise ValueError("webhook_format must be 'json' or 'form'.")
        if self.deleted_webhook not in {"method", "param", "none"}:
            raise ValueError("deleted_webhook must be 'method', 'param' or 'none'.")
        if not self.action_param:
            raise ValueError("action_param must name a query parameter.")
        if self.webhook_payload not in {"record", "id"}:
            raise ValueError("webhook_payload must be 'record' or 'id'.")
        if self.time_factor <= 0:
            raise ValueError("time_factor must be positive.")

    @property
    def minute_window(self) -> float:
        """Seconds in the per-minute rate-limit window, after ``time_factor``."""
        return 60.0 / self.time_factor

    @property
    def day_window(self) -> float:
        """Seconds in the daily quota window, after ``time_factor``."""
        return 86400.0 / self.time_factor

    @property
    def token_window(self) -> float:
        """Seconds in the window for ``token_requests_per_10min``, after ``time_factor``."""
        return 600.0 / self.time_factor
