"""The Zoho Books client: OAuth, the shared rate budget, retries, pagination.

Build one :class:`UnifiedZohoClient` per process from the settings; every
error it raises is a :class:`ZohoAPIError`. The client and its parts load on
first use (PEP 562), so importing the error classes stays light and
:mod:`tds.retry` can sort them without importing the client.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from tds.zoho.errors import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoNotFoundError,
    ZohoRateLimitError,
    ZohoServerError,
    ZohoTransportError,
    ZohoValidationError,
    error_from_response,
)

if TYPE_CHECKING:
    from tds.zoho.auth import AccessToken, ZohoAuthManager, ZohoCredentials, ZohoOAuth
    from tds.zoho.client import UnifiedZohoClient
    from tds.zoho.connection_check import ConnectionCheck
    from tds.zoho.ratelimit import DatabaseTokenBucket, RateBudget, RedisTokenBucket, make_budget

_LAZY = {
    "AccessToken": "tds.zoho.auth", "ZohoAuthManager": "tds.zoho.auth",
    "ZohoCredentials": "tds.zoho.auth", "ZohoOAuth": "tds.zoho.auth",
    "UnifiedZohoClient": "tds.zoho.client", "ConnectionCheck": "tds.zoho.connection_check",
    "DatabaseTokenBucket": "tds.zoho.ratelimit", "RateBudget": "tds.zoho.ratelimit",
    "RedisTokenBucket": "tds.zoho.ratelimit", "make_budget": "tds.zoho.ratelimit",
}

__all__ = [
    "AccessToken",
    "ConnectionCheck",
    "DatabaseTokenBucket",
    "RateBudget",
    "RedisTokenBucket",
    "UnifiedZohoClient",
    "ZohoAPIError",
    "ZohoAuthError",
    "ZohoAuthManager",
    "ZohoCredentials",
    "ZohoNotFoundError",
    "ZohoOAuth",
    "ZohoRateLimitError",
    "ZohoServerError",
    "ZohoTransportError",
    "ZohoValidationError",
    "error_from_response",
    "make_budget",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
