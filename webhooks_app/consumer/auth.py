"""API-key authentication for the consumer API.

A key comes in ``X-API-Key`` or ``Authorization: Bearer <key>`` and must equal one
of ``TDS_API_KEYS`` (several at once, so keys can be rotated). Every configured key
is compared, in constant time, whatever matched, so the answer's timing tells
nothing about any key; keys are never logged (the receiver's stored headers leave
them out too).
"""

from __future__ import annotations

import hmac

from flask import request

from webhooks_app.consumer.answers import ApiError
from webhooks_app.extensions import tds_ext

API_KEY_HEADER = "X-API-Key"
BEARER = "bearer "
PUBLIC_ENDPOINTS = frozenset({"consumer.docs.openapi"})


def require_api_key() -> None:
    """Refuse the request (401) unless it carries a valid key; the document is public."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    presented = request.headers.get(API_KEY_HEADER) or _bearer(
        request.headers.get("Authorization", ""))
    if not presented or not key_is_valid(presented, tds_ext().settings.api_keys):
        raise ApiError(401, "unauthorized",
                       f"Send a valid API key in the {API_KEY_HEADER} header (or "
                       "Authorization: Bearer <key>); the keys are set in TDS_API_KEYS.",
                       headers={"WWW-Authenticate": 'Bearer realm="tds-consumer"'})


def key_is_valid(presented: str, keys: tuple[str, ...]) -> bool:
    """Whether `presented` is one of `keys`, comparing with every key in constant time."""
    given = presented.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    return matched


def _bearer(header: str) -> str:
    return header[len(BEARER):].strip() if header.lower().startswith(BEARER) else ""
