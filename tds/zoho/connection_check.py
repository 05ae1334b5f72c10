"""`tds config test-credentials`: call Zoho once and say exactly what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tds.config import API_HOSTS
from tds.retry import is_transient
from tds.zoho.errors import (
    NOT_AUTHORIZED_CODE,
    ZohoAPIError,
    ZohoAuthError,
    ZohoRateLimitError,
    ZohoTransportError,
)

if TYPE_CHECKING:
    from tds.zoho.client import UnifiedZohoClient


@dataclass(frozen=True)
class ConnectionCheck:
    """The verdict: ``problem`` is None when all is well, else one of
    credentials, scope, data_centre, organization, network, rate_limit, zoho."""

    ok: bool
    problem: str | None
    message: str
    api_domain: str | None = None
    organizations: tuple[str, ...] = ()


def check_connection(client: UnifiedZohoClient) -> ConnectionCheck:
    """Get a token, list the organizations, and find the configured one among them."""
    settings = client.settings
    try:
        api_domain = client.auth.token().api_domain
        body = client.request("GET", "/organizations", with_organization=False)
    except ZohoAPIError as error:
        return ConnectionCheck(False, _problem(error), str(error))
    found = tuple(str(org.get("organization_id")) for org in body.get("organizations", [])
                  if isinstance(org, dict))
    wanted = settings.zoho_organization_id
    if wanted not in found:
        return ConnectionCheck(
            False, "organization",
            f"ZOHO_ORGANIZATION_ID={wanted} is not among this user's organizations "
            f"({', '.join(found) or 'none'}); set it to one of them.", api_domain, found)
    message = f"Connected: organization {wanted} reachable at {api_domain or 'the base URL'}."
    expected = API_HOSTS.get(settings.zoho_dc)
    host = urlsplit(api_domain).hostname if api_domain else None
    if host and "zohoapis." in host and host != expected:
        message += (f" Note: Zoho placed this account at {host} but ZOHO_DC={settings.zoho_dc}; "
                    "set ZOHO_DC to match.")
    return ConnectionCheck(True, None, message, api_domain, found)


def _problem(error: ZohoAPIError) -> str:
    if isinstance(error, ZohoTransportError):
        return "network"
    if isinstance(error, ZohoRateLimitError):
        return "rate_limit"
    if isinstance(error, ZohoAuthError):
        if error.code == NOT_AUTHORIZED_CODE:
            return "scope"
        if error.http_status == 401:
            return "data_centre"
        return "zoho" if is_transient(error) else "credentials"
    return "zoho"
