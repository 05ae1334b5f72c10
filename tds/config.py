"""The one place TDS reads its environment.

Every setting is parsed once into a frozen :class:`Settings`; the web app,
the Celery app, the Zoho client and the CLI are all built from it. A
malformed value raises :class:`ConfigError` naming the variable, so an
operator sees what to fix before anything starts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tds.errors import TDSError
from tds.signatures import SignaturePolicy

ACCOUNTS_HOSTS: dict[str, str] = {
    "com": "accounts.zoho.com",
    "eu": "accounts.zoho.eu",
    "in": "accounts.zoho.in",
    "com.au": "accounts.zoho.com.au",
    "jp": "accounts.zoho.jp",
    "ca": "accounts.zohocloud.ca",
    "sa": "accounts.zoho.sa",
    "uk": "accounts.zoho.uk",
    "com.cn": "accounts.zoho.com.cn",
}
API_HOSTS: dict[str, str] = {
    "com": "www.zohoapis.com",
    "eu": "www.zohoapis.eu",
    "in": "www.zohoapis.in",
    "com.au": "www.zohoapis.com.au",
    "jp": "www.zohoapis.jp",
    "ca": "www.zohoapis.ca",
    "sa": "www.zohoapis.sa",
    "uk": "www.zohoapis.uk",
    "com.cn": "www.zohoapis.com.cn",
}
SECRET_FIELDS = frozenset(
    {"zoho_client_secret", "zoho_refresh_token", "webhook_secrets", "standard_webhook_secrets",
     "webhook_token", "api_keys"}
)
ZOHO_CREDENTIAL_VARS = (
    "ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN", "ZOHO_ORGANIZATION_ID",
)
# The sandbox's fixed demo credentials: used only when no Zoho credentials are set.
SANDBOX_CREDENTIALS = {
    "zoho_client_id": "1000.SANDBOXCLIENT",
    "zoho_client_secret": "sandbox-secret",
    "zoho_refresh_token": "1000.sandbox.refresh",
    "zoho_organization_id": "10234695",
}
SANDBOX_URL = "http://127.0.0.1:8090"
# List rows are summaries: these entities' detail (lines, per-location stock, price-list
# items) comes only from the full record.
DEFAULT_FETCH_DETAILS = ("invoices", "bills", "credit_notes", "stock", "prices")


class ConfigError(TDSError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything TDS can be told from outside, parsed and typed."""

    env: str = "development"
    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/tds.sqlite3"
    broker_url: str = "filesystem://"
    redis_url: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    # Zoho
    zoho_client_id: str = ""
    zoho_client_secret: str = ""
    zoho_refresh_token: str = ""
    zoho_organization_id: str = ""
    zoho_dc: str = "com"
    zoho_accounts_url: str = "https://accounts.zoho.com"
    zoho_api_base_url: str = "https://www.zohoapis.com/books/v3"
    zoho_rate_limit_per_min: int = 100
    zoho_rate_window_seconds: float = 60.0  # the limit's window: a minute, at Zoho
    zoho_daily_limit: int = 1000
    zoho_max_concurrency: int = 5
    zoho_timeout_seconds: float = 30.0
    zoho_max_attempts: int = 4
    zoho_token_refresh_margin_seconds: int = 300
    zoho_token_window_seconds: float = 600.0
    zoho_budget_wait_seconds: float = 120.0
    uses_sandbox: bool = False
    # Webhooks
    webhook_secrets: tuple[str, ...] = ()
    standard_webhook_secrets: tuple[str, ...] = ()
    webhook_token: str = ""
    webhook_token_param: str = ""
    webhook_max_bytes: int = 1024 * 1024
    # The receiver's database waits: connecting, and storing one event (after which 503).
    db_connect_timeout_seconds: float = 2.0
    db_statement_timeout_seconds: float = 5.0
    webhook_tolerance_seconds: int = 300
    # Where a webhook names its action (Zoho's body may not): a query parameter, a header.
    webhook_action_param: str = "event"
    webhook_action_header: str = ""
    # Entities whose changed records are fetched in full behind each list page.
    fetch_details: tuple[str, ...] = DEFAULT_FETCH_DETAILS
    # Consumer API
    api_keys: tuple[str, ...] = ()
    # Sync health in /consumer/sync/status (seconds): an entity is `stale` when no pass
    # finished within its threshold, `stalled` when its open work has not moved for as long.
    stale_after_seconds: int = 7200
    inventory_stale_after_seconds: int = 1800
    stalled_after_seconds: int = 1800
    # Workers and schedules (seconds)
    task_max_retries: int = 8
    retry_backoff_max_seconds: int = 900
    visibility_timeout_seconds: int = 3600
    claim_lease_seconds: int = 300  # an event's claim, and its task's time limit
    pass_lease_seconds: int = 600  # a sync pass's claim, renewed after every page
    task_time_limit_seconds: int = 1800  # any other task (a pass resumes after it)
    sweeper_grace_seconds: int = 60
    sweeper_interval_seconds: int = 60
    inventory_sync_interval_seconds: int = 300
    entity_sync_interval_seconds: int = 3600
    reconcile_hour_utc: int = 2
    tick_seconds: int = 60
    cleanup_interval_seconds: int = 86400
    cleanup_after_days: int = 30
    # Share of the daily quota kept for webhook fetches and orders, off the schedule.
    quota_reserve: float = 0.3
    # Tests switch backoff sleeps off with one setting (stamina's testing mode).
    testing: bool = False
    generated: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def broker_folder(self) -> Path:
        return self.var_dir / "broker"

    @property
    def uses_filesystem_broker(self) -> bool:
        return self.broker_url.startswith("filesystem")

    def broker_folders(self) -> dict[str, Path]:
        """The filesystem broker's folders (made by the processes that use them)."""
        return {sub: self.broker_folder / sub for sub in ("queue", "processed", "control")}

    def broker_transport_options(self) -> dict[str, Any]:
        """kombu transport options: folders for the filesystem broker, timeouts otherwise."""
        if self.uses_filesystem_broker:
            folders = self.broker_folders()
            return {
                "data_folder_in": str(folders["queue"]),
                "data_folder_out": str(folders["queue"]),
                "processed_folder": str(folders["processed"]),
                "control_folder": str(folders["control"]),
                "store_processed": False,
            }
        # A message not acked within this time is delivered again; it must be
        # longer than the longest retry countdown or a waiting retry runs twice.
        return {"visibility_timeout": self.visibility_timeout_seconds}

    def signature_policy(self) -> SignaturePolicy:
        """The webhook signature schemes accepted, with their secrets."""
        return SignaturePolicy(self.webhook_secrets, self.standard_webhook_secrets,
                               self.webhook_token, self.webhook_token_param,
                               self.webhook_tolerance_seconds)

    def masked(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked, for `tds config show`."""
        shown: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if name == "generated":
                continue
            if name in SECRET_FIELDS and value:
                value = ["****"] * len(value) if isinstance(value, tuple) else "****"
            elif name.endswith("_url") and isinstance(value, str):
                value = mask_url_password(value)
            shown[name] = str(value) if isinstance(value, Path) else value
        return shown

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests pass settings to the factories)."""
        return replace(self, **changes)


def mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class _Reader:
    """Typed access to an environment mapping; every error names the variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str, default: str = "") -> str:
        return self.environ.get(name, "").strip() or default

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        return int(self._number(name, default, int, minimum, "a whole number"))

    def number(self, name: str, default: float) -> float:
        return self._number(name, default, float, 0, "a number")

    def _number(self, name: str, default: float, convert: Callable[[str], float],
                minimum: float, kind: str) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = convert(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not {kind}; set it to e.g. {default}.")\
                from None
        if value < minimum:
            raise ConfigError(f"{name}={value} is below the minimum of {minimum}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw in {"1", "true", "yes", "on"}:
            return True
        if raw in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name}={raw!r} is not a boolean; use true or false.")

    def items(self, name: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.text(name).split(",") if part.strip())

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.text(name, default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.split("+", 1)[0] not in schemes:
            raise ConfigError(
                f"{name}={mask_url_password(value)!r} is not a URL TDS can use; "
                f"expected one starting with {' or '.join(s + '://' for s in schemes)}."
            )
        return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment (``os.environ`` when not given)."""
    env = _Reader(os.environ if environ is None else environ)
    deployment = env.text("TDS_ENV", "development")
    if deployment not in {"development", "production", "test"}:
        raise ConfigError(f"TDS_ENV={deployment!r} must be development, production or test.")
    var_dir = Path(env.text("TDS_VAR_DIR", "var"))
    zoho = _zoho_settings(env)
    generated: list[str] = []
    webhook_secrets = env.items("TDS_WEBHOOK_SECRET")
    api_keys = env.items("TDS_API_KEYS")
    if deployment == "production":
        for name, value in (("TDS_WEBHOOK_SECRET", webhook_secrets), ("TDS_API_KEYS", api_keys)):
            if not value:
                raise ConfigError(f"{name} is required when TDS_ENV=production.")
    else:
        dev = _dev_secrets(var_dir)
        if not webhook_secrets:
            webhook_secrets = (dev["TDS_WEBHOOK_SECRET"],)
            generated.append("TDS_WEBHOOK_SECRET")
        if not api_keys:
            api_keys = (dev["TDS_API_KEYS"],)
            generated.append("TDS_API_KEYS")
    token_param = env.text("TDS_WEBHOOK_TOKEN_PARAM")
    webhook_token = env.text("TDS_WEBHOOK_TOKEN")
    if bool(token_param) != bool(webhook_token):
        raise ConfigError(
            "TDS_WEBHOOK_TOKEN and TDS_WEBHOOK_TOKEN_PARAM go together: set both (the token and "
            "the query parameter or header that carries it) or neither."
        )
    settings = Settings(
        env=deployment,
        var_dir=var_dir,
        database_url=env.url(
            "DATABASE_URL", f"sqlite:///{var_dir}/tds.sqlite3", ("sqlite", "postgresql")
        ),
        broker_url=env.url(
            "CELERY_BROKER_URL", "filesystem://", ("filesystem", "redis", "rediss", "amqp",
                                                   "pyamqp", "memory")
        ),
        redis_url=env.url("REDIS_URL", "", ("redis", "rediss")) if env.text("REDIS_URL") else None,
        log_level=env.text("TDS_LOG_LEVEL", "INFO").upper(),
        log_json=env.flag("TDS_LOG_JSON", True),
        **zoho,
        webhook_secrets=webhook_secrets,
        standard_webhook_secrets=env.items("TDS_STANDARD_WEBHOOK_SECRET"),
        webhook_token=webhook_token,
        webhook_token_param=token_param,
        webhook_max_bytes=env.integer("TDS_WEBHOOK_MAX_BYTES", 1024 * 1024, minimum=1024),
        db_connect_timeout_seconds=env.number("TDS_DB_CONNECT_TIMEOUT_SECONDS", 2.0),
        db_statement_timeout_seconds=env.number("TDS_DB_STATEMENT_TIMEOUT_SECONDS", 5.0),
        webhook_tolerance_seconds=env.integer("TDS_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1),
        webhook_action_param=env.text("TDS_WEBHOOK_ACTION_PARAM", "event"),
        webhook_action_header=env.text("TDS_WEBHOOK_ACTION_HEADER").lower(),
        fetch_details=_entity_names(env, "TDS_FETCH_DETAILS", DEFAULT_FETCH_DETAILS),
        api_keys=api_keys,
        stale_after_seconds=env.integer("TDS_STALE_AFTER_SECONDS", 7200, minimum=1),
        inventory_stale_after_seconds=env.integer("TDS_INVENTORY_STALE_AFTER_SECONDS", 1800,
                                                  minimum=1),
        stalled_after_seconds=env.integer("TDS_STALLED_AFTER_SECONDS", 1800, minimum=1),
        task_max_retries=env.integer("TDS_TASK_MAX_RETRIES", 8),
        retry_backoff_max_seconds=env.integer("TDS_RETRY_BACKOFF_MAX_SECONDS", 900, minimum=1),
        visibility_timeout_seconds=env.integer("TDS_VISIBILITY_TIMEOUT_SECONDS", 3600, minimum=60),
        claim_lease_seconds=env.integer("TDS_CLAIM_LEASE_SECONDS", 300, minimum=10),
        pass_lease_seconds=env.integer("TDS_PASS_LEASE_SECONDS", 600, minimum=30),
        task_time_limit_seconds=env.integer("TDS_TASK_TIME_LIMIT_SECONDS", 1800, minimum=10),
        sweeper_grace_seconds=env.integer("TDS_SWEEPER_GRACE_SECONDS", 60),
        sweeper_interval_seconds=env.integer("TDS_SWEEPER_INTERVAL_SECONDS", 60, minimum=1),
        inventory_sync_interval_seconds=env.integer(
            "TDS_INVENTORY_SYNC_INTERVAL_SECONDS", 300, minimum=1
        ),
        entity_sync_interval_seconds=env.integer(
            "TDS_ENTITY_SYNC_INTERVAL_SECONDS", 3600, minimum=1
        ),
        reconcile_hour_utc=_hour(env, "TDS_RECONCILE_HOUR_UTC", 2),
        tick_seconds=env.integer("TDS_TICK_SECONDS", 60, minimum=1),
        cleanup_interval_seconds=env.integer("TDS_CLEANUP_INTERVAL_SECONDS", 86400, minimum=1),
        cleanup_after_days=env.integer("TDS_CLEANUP_AFTER_DAYS", 30, minimum=1),
        quota_reserve=_share(env, "TDS_QUOTA_RESERVE", 0.3),
        testing=env.flag("TDS_TESTING", False),
        generated=tuple(generated),
    )
    refuse_duplicating(settings)
    return settings


def refuse_duplicating(settings: Settings) -> None:
    """Refuse settings whose combination would run a task twice without a word.

    On Redis a message not acknowledged within the visibility timeout is delivered
    again (kombu's known behaviour): it must outlast the longest retry countdown and
    the longest a task may run, or a waiting retry, or a slow task, runs twice."""
    if not settings.broker_url.startswith(("redis", "rediss")):
        return
    longest_task = max(settings.task_time_limit_seconds, settings.claim_lease_seconds)
    needed = settings.retry_backoff_max_seconds + longest_task
    if settings.visibility_timeout_seconds <= needed:
        raise ConfigError(
            f"TDS_VISIBILITY_TIMEOUT_SECONDS={settings.visibility_timeout_seconds} must be "
            f"longer than TDS_RETRY_BACKOFF_MAX_SECONDS={settings.retry_backoff_max_seconds} "
            f"plus the longest a task may run ({longest_task}s: TDS_TASK_TIME_LIMIT_SECONDS "
            "or TDS_CLAIM_LEASE_SECONDS), or Redis delivers a waiting task again while it "
            f"waits: raise it above {needed}, or lower the others.")


def _hour(env: _Reader, name: str, default: int) -> int:
    value = env.integer(name, default)
    if value > 23:
        raise ConfigError(f"{name}={value} is an hour of the day: 0 to 23.")
    return value


def _share(env: _Reader, name: str, default: float) -> float:
    value = env.number(name, default)
    if value >= 1:
        raise ConfigError(f"{name}={value} is a share of the daily quota: between 0 and 1 "
                          "(e.g. 0.3 keeps 30%).")
    return value


def _entity_names(env: _Reader, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    from tds.entities import BY_NAME  # the registry, not needed to read anything else

    raw = env.text(name)
    if not raw:
        return default
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    if names == ("none",):
        return ()
    unknown = [entity for entity in names if entity not in BY_NAME]
    if unknown:
        raise ConfigError(f"{name} names unknown entities ({', '.join(unknown)}); use some of "
                          f"{', '.join(BY_NAME)}, or none.")
    return names


def _zoho_settings(env: _Reader) -> dict[str, Any]:
    dc = env.text("ZOHO_DC", "com").lower()
    if dc not in ACCOUNTS_HOSTS:
        raise ConfigError(f"ZOHO_DC={dc!r} is not a Zoho data centre; use one of "
                          f"{', '.join(ACCOUNTS_HOSTS)}.")
    given = {name: env.text(name) for name in ZOHO_CREDENTIAL_VARS}
    present = [name for name, value in given.items() if value]
    if present and len(present) < len(given):
        missing = [name for name in given if name not in present]
        raise ConfigError(f"Zoho credentials are incomplete: {', '.join(missing)} not set. "
                          "Set all four, or none to use the built-in sandbox.")
    uses_sandbox = not present
    if uses_sandbox:
        credentials = dict(SANDBOX_CREDENTIALS)
        accounts_default, api_default = SANDBOX_URL, f"{SANDBOX_URL}/books/v3"
    else:
        credentials = {name.lower(): value for name, value in given.items()}
        accounts_default = f"https://{ACCOUNTS_HOSTS[dc]}"
        api_default = f"https://{API_HOSTS[dc]}/books/v3"
    return {
        **credentials,
        "uses_sandbox": uses_sandbox,
        "zoho_dc": dc,
        "zoho_accounts_url": env.url("ZOHO_ACCOUNTS_URL", accounts_default, ("http", "https"))
        .rstrip("/"),
        "zoho_api_base_url": env.url("ZOHO_API_BASE_URL", api_default, ("http", "https"))
        .rstrip("/"),
        "zoho_rate_limit_per_min": env.integer("ZOHO_RATE_LIMIT_PER_MIN", 100, minimum=1),
        "zoho_rate_window_seconds": env.number("ZOHO_RATE_WINDOW_SECONDS", 60.0),
        "zoho_daily_limit": env.integer("ZOHO_DAILY_LIMIT", 1000, minimum=1),
        "zoho_max_concurrency": env.integer("ZOHO_MAX_CONCURRENCY", 5, minimum=1),
        "zoho_timeout_seconds": env.number("ZOHO_TIMEOUT_SECONDS", 30.0),
        "zoho_max_attempts": env.integer("ZOHO_MAX_ATTEMPTS", 4, minimum=1),
        "zoho_token_refresh_margin_seconds": env.integer("ZOHO_TOKEN_REFRESH_MARGIN_SECONDS", 300),
        "zoho_token_window_seconds": env.number("ZOHO_TOKEN_WINDOW_SECONDS", 600.0),
        "zoho_budget_wait_seconds": env.number("ZOHO_BUDGET_WAIT_SECONDS", 120.0),
    }


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    """Secrets generated once per development checkout, so every process agrees on them."""
    path = var_dir / "dev-secrets.env"
    if path.exists():
        lines = path.read_text().splitlines()
        stored = dict(line.split("=", 1) for line in lines if "=" in line)
        if {"TDS_WEBHOOK_SECRET", "TDS_API_KEYS"} <= stored.keys():
            return stored
    created = {
        # Zoho accepts 12-50 alphanumeric characters for a webhook secret.
        "TDS_WEBHOOK_SECRET": secrets.token_hex(16),
        "TDS_API_KEYS": "tds_" + secrets.token_urlsafe(24),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in created.items()))
    path.chmod(0o600)
    return created
