"""The accounts server's token endpoint, refresh-token grant only.

Like Zoho Accounts, every refusal is HTTP 200 with an ``error`` key, so a
client has to read the body, not only the status.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from tds.sandbox.app import state

blueprint = Blueprint("sandbox_oauth", __name__)
SCOPE = "ZohoBooks.fullaccess.all ZohoInventory.fullaccess.all"


@blueprint.post("/oauth/v2/token")
def token() -> Response:
    """Grant an access token for the configured refresh token."""
    sandbox = state()
    config = sandbox.config
    if request.values.get("grant_type") != "refresh_token":
        return jsonify(error="unsupported_grant_type")
    if (request.values.get("client_id") != config.client_id
            or request.values.get("client_secret") != config.client_secret):
        sandbox.stats.add("token_refusals")
        return jsonify(error="invalid_client")
    refresh_token = request.values.get("refresh_token", "")
    if refresh_token != config.refresh_token:
        sandbox.stats.add("token_refusals")
        return jsonify(error="invalid_code")
    access_token = sandbox.tokens.grant(refresh_token)
    if access_token is None:
        sandbox.stats.add("token_denials")
        return jsonify(error="Access Denied", status="failure",
                       error_description="You have made too many requests continuously. "
                                         "Please try again after some time.")
    sandbox.stats.add("token_grants")
    return jsonify(access_token=access_token, expires_in=config.token_ttl,
                   api_domain=request.host_url.rstrip("/"), token_type="Bearer",  # noqa: S106 - not a secret.
                   scope=SCOPE)
