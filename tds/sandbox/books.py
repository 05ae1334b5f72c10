"""The Books API (``/books/v3``) and Inventory's adjustments (``/inventory/v1``).

Every call passes the same gate as at Zoho, in this order: injected faults,
the access token, ``organization_id``, then the organization's rate limits.
Every answer carries the daily-quota ``X-Rate-Limit-*`` headers. The
organizations live here; the entities' routes are in :mod:`records` and
price lists' own reads in :mod:`pricebooks`, the webhook settings in
:mod:`webhook_settings`, blueprints nested in this one so the gate covers them.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Response, request

from tds.sandbox import pricebooks, records, webhook_settings
from tds.sandbox.app import drop_connection, state, success, zoho_error
from tds.sandbox.organization import organization
from tds.sandbox.writes import ZohoFault

blueprint = Blueprint("sandbox_books", __name__)
blueprint.register_blueprint(records.blueprint)
blueprint.register_blueprint(pricebooks.blueprint)
blueprint.register_blueprint(webhook_settings.blueprint)
TOKEN_PREFIX = "Zoho-oauthtoken "  # noqa: S105 - a header scheme, not a secret.
# Listing organizations is how a client finds its organization_id.
ORG_FREE_ENDPOINTS = {"sandbox_books.organizations", "sandbox_books.one_organization"}


@blueprint.before_request
def gate() -> Response | None:
    """Faults, authentication, organization and rate limit, as Zoho applies them."""
    sandbox = state()
    plan = sandbox.faults.plan()
    if plan.delay_seconds:
        time.sleep(plan.delay_seconds)
    if plan.drop:
        sandbox.stats.add("dropped")
        return drop_connection()
    if plan.fail:
        return zoho_error(500, 1000, "Internal error")
    refused = _authenticate(request.headers.get("Authorization", ""))
    if refused is not None:
        return refused
    org = request.args.get("organization_id")
    if org is None and request.endpoint not in ORG_FREE_ENDPOINTS:
        return zoho_error(400, 4, "Invalid value passed for organization_id")
    if org is not None and org != sandbox.config.organization_id:
        return zoho_error(400, 6041, "This user is not associated with the "
                                     f"CompanyID/CompanyName:{org}.")
    return _limit(sandbox.config.organization_id)


def _authenticate(header: str) -> Response | None:
    """None for a live token. Zoho answers 401 code 14 when the header is missing or
    malformed, and code 57 for an expired or revoked token (as for a missing scope)."""
    token = header.removeprefix(TOKEN_PREFIX).strip()
    if not header.startswith(TOKEN_PREFIX) or not token:
        return zoho_error(401, 14, "Invalid OAuth access token.")
    if not state().tokens.valid(token):
        return zoho_error(401, 57, "You are not authorized to perform this operation")
    return None


def _limit(org: str) -> Response | None:
    sandbox = state()
    verdict = sandbox.limiter.check(org)
    if verdict.refused == "daily":
        sandbox.stats.add("rate_limited_daily")
        return zoho_error(429, 45, "You have reached the maximum number of API calls for the day.")
    if verdict.refused == "minute":
        sandbox.stats.add("rate_limited_minute")
        answer = zoho_error(429, sandbox.config.rate_limit_code, sandbox.config.rate_limit_message)
        if sandbox.config.retry_after_window:
            answer.headers["Retry-After"] = str(math.ceil(verdict.minute_frees_in))
        elif sandbox.config.retry_after_seconds is not None:
            answer.headers["Retry-After"] = str(sandbox.config.retry_after_seconds)
        return answer
    return None


@blueprint.after_request
def quota_headers(response: Response) -> Response:
    verdict = state().limiter.peek(state().config.organization_id)
    response.headers["X-Rate-Limit-Limit"] = str(verdict.limit)
    response.headers["X-Rate-Limit-Remaining"] = str(verdict.remaining)
    response.headers["X-Rate-Limit-Reset"] = str(verdict.reset_seconds)
    return response


@blueprint.get("/books/v3/organizations")
def organizations() -> Response:
    return success({"organizations": [organization(state().config)]})


@blueprint.get("/books/v3/organizations/<org_id>")
def one_organization(org_id: str) -> Response:
    if org_id != state().config.organization_id:
        raise ZohoFault(404, 1002, "Organization does not exist.")
    return success({"organization": organization(state().config)})
