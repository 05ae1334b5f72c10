"""`tds config test-credentials` and `GET /consumer/credentials`: call Zoho once and say
exactly which part is wrong, and what to do about it.

The parts, in the order a call needs them: ``network`` (Zoho's accounts and API
hosts answer), ``client`` (``ZOHO_CLIENT_ID`` and ``ZOHO_CLIENT_SECRET``: Zoho's
``invalid_client``), ``refresh_token`` (``ZOHO_REFRESH_TOKEN``: ``invalid_code``),
``data_centre`` (``ZOHO_DC``: a token refused by the API host), ``scope`` (code 57
after a fresh token) and ``organization`` (``ZOHO_ORGANIZATION_ID`` among the
user's). Zoho's word for each is in ``zoho-books-api.md``.
"""

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

# The accounts server's refusals of a token request, by the part they name.
TOKEN_REFUSALS = {"invalid_client": "client", "invalid_code": "refresh_token"}


PARTS = ("network", "client", "refresh_token", "data_centre", "scope", "organization")
# What to do about each problem a check can name.
REMEDIES = {
    "client": "Check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET against the Zoho API console, "
              "and ZOHO_DC (a client belongs to one data centre).",
    "refresh_token": "Issue a new refresh token in the Zoho API console and set "
                     "ZOHO_REFRESH_TOKEN (a user keeps at most 20: a 21st silently deletes "
                     "the oldest).",
    "credentials": "Check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (a client "
                   "and its tokens belong to one data centre: ZOHO_DC).",
    "scope": "Issue a new refresh token with the ZohoBooks scopes TDS needs "
             "(e.g. ZohoBooks.fullaccess.all) and set ZOHO_REFRESH_TOKEN.",
    "data_centre": "Set ZOHO_DC to the data centre the Zoho account lives in.",
    "organization": "Set ZOHO_ORGANIZATION_ID to one of the organizations listed.",
    "network": "Check the network path to ZOHO_ACCOUNTS_URL and ZOHO_API_BASE_URL, then "
               "run the check again.",
    "rate_limit": "Wait a few minutes and run the check again; if it persists, look for other "
                  "apps using the same organization or refresh token.",
    "zoho": "Zoho failed; run the check again later and look at status.zoho.com.",
}


@dataclass(frozen=True)
class ConnectionCheck:
    """The verdict: ``problem`` is None when all is well, else one of the parts
    (:data:`PARTS`), ``credentials`` (a token refusal naming neither), ``rate_limit``
    or ``zoho``."""

    ok: bool
    problem: str | None
    message: str
    api_domain: str | None = None
    organizations: tuple[str, ...] = ()

    @property
    def remedy(self) -> str | None:
        """What to do about the problem; None when there is none."""
        return None if self.problem is None else REMEDIES.get(self.problem, REMEDIES["zoho"])

    @property
    def parts(self) -> dict[str, str]:
        """Each part's verdict: ``ok``, ``problem``, or ``unchecked`` (after a problem
        in an earlier part, or when the call was refused for another reason)."""
        if self.problem is None:
            return dict.fromkeys(PARTS, "ok")
        if self.problem not in PARTS:
            return dict.fromkeys(PARTS, "unchecked")
        failed = PARTS.index(self.problem)
        return {part: "ok" if index < failed else "problem" if index == failed
                else "unchecked" for index, part in enumerate(PARTS)}


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
        if error.code in TOKEN_REFUSALS:
            return TOKEN_REFUSALS[str(error.code)]
        if error.http_status == 401:
            return "data_centre"
        return "zoho" if is_transient(error) else "credentials"
    return "zoho"
