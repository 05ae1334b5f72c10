"""Webhook signatures: Zoho's scheme, Standard Webhooks, and a shared token.

Signing and verifying live side by side so the sandbox (which signs) and
the receiver (which verifies) can never drift apart. Every comparison is
constant-time, and several secrets may be active at once so a secret can
be rotated without refusing events signed with the old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Sequence

from tds.errors import TDSError

STANDARD_PREFIX = "whsec_"


class SignatureError(TDSError):
    """A webhook's signature is missing, malformed, stale or does not match."""


def zoho_signed_string(pairs: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """Zoho's string to sign: every query and form pair sorted by key as
    ``keyvalue`` with nothing between, then the raw JSON body."""
    joined = "".join(f"{key}{value}" for key, value in sorted(pairs, key=lambda pair: pair[0]))
    return joined.encode() + body


def sign_zoho(secret: str, body: bytes, pairs: Iterable[tuple[str, str]] = ()) -> str:
    """The hex HMAC-SHA256 Zoho sends in ``X-Zoho-Webhook-Signature``."""
    return hmac.new(secret.encode(), zoho_signed_string(pairs, body), hashlib.sha256).hexdigest()


def verify_zoho(
    secrets: Sequence[str], signature: str | None, body: bytes,
    pairs: Iterable[tuple[str, str]] = (),
) -> None:
    """Raise :class:`SignatureError` unless one of `secrets` produced `signature`."""
    if not signature:
        raise SignatureError("The X-Zoho-Webhook-Signature header is missing; set the webhook "
                             "secret in Zoho's webhook settings.")
    supplied = signature.strip().lower()
    pairs = list(pairs)
    if not any(hmac.compare_digest(sign_zoho(secret, body, pairs), supplied)
               for secret in secrets):
        raise SignatureError("The X-Zoho-Webhook-Signature does not match this body with any "
                             "configured secret (TDS_WEBHOOK_SECRET).")


def _standard_key(secret: str) -> bytes:
    raw = secret.removeprefix(STANDARD_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise SignatureError(f"A Standard Webhooks secret must be {STANDARD_PREFIX}<base64>; "
                             "check TDS_STANDARD_WEBHOOK_SECRET.") from None


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of the Standard Webhooks scheme."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_standard_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard(
    secrets: Sequence[str], msg_id: str | None, timestamp: str | None,
    signature_header: str | None, body: bytes, tolerance_seconds: int = 300,
    now: float | None = None,
) -> None:
    """Raise :class:`SignatureError` unless the Standard Webhooks headers check out."""
    if not (msg_id and timestamp and signature_header):
        raise SignatureError("Standard Webhooks need webhook-id, webhook-timestamp and "
                             "webhook-signature headers.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("webhook-timestamp must be whole unix seconds.") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from "
                             "now; the event is stale or the sender's clock is off.")
    offered = [part.split(",", 1)[1] for part in signature_header.split()
               if part.startswith("v1,")]
    for secret in secrets:
        expected = sign_standard(secret, msg_id, sent_at, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("No webhook-signature matches this body with any configured secret "
                         "(TDS_STANDARD_WEBHOOK_SECRET).")


def verify_token(expected: str, supplied: str | None) -> None:
    """Raise unless the shared token (query parameter or header) matches."""
    if not supplied or not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise SignatureError("The webhook token is missing or wrong; it must match "
                             "TDS_WEBHOOK_TOKEN.")
