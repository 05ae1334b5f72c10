"""The Zoho Books client: OAuth, the shared rate budget, retries, pagination.

Build one :class:`UnifiedZohoClient` per process from the settings; every
error it raises is a :class:`ZohoAPIError` saying whether to retry.
"""

from tds.zoho.auth import AccessToken, ZohoAuthManager, ZohoCredentials, ZohoOAuth
from tds.zoho.client import UnifiedZohoClient
from tds.zoho.connection_check import ConnectionCheck
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
from tds.zoho.ratelimit import DatabaseTokenBucket, RateBudget, RedisTokenBucket, make_budget

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
