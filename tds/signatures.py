"""Webhook signatures: Zoho's scheme, Standard Webhooks, a shared token, and the
policy choosing among them.

Signing and verifying live side by side so the sandbox (which signs) and
the receiver (which verifies) can never drift apart. Every comparison is
constant-time over bytes, and several secrets may be active at once so a
secret can be rotated without refusing events signed with the old one.
Whatever a sender puts in a signature header ends in :class:`SignatureError`
or a match, never in another exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tds.errors import TDSError

STANDARD_PREFIX = "whsec_"
ZOHO_SIGNATURE = "x-zoho-webhook-signature"
STANDARD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
MAX_TIMESTAMP_DIGITS = 12  # unix seconds for the next 30,000 years


class SignatureError(TDSError):
    """A webhook's signature is missing, malformed, stale or does not match."""


def zoho_signed_string(pairs: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """Zoho's string to sign: every query and form pair sorted by key as
    ``keyvalue`` with nothing between, then the raw JSON body."""
    joined = "".join(f"{key}{value}" for key, value in sorted(pairs, key=lambda pair: pair[0]))
    return joined.encode() + body


def sign_zoho(secret: str, body: bytes, pairs: Iterable[tuple[str, str]] = ()) -> str:
    """The hex HMAC-SHA256 Zoho sends in ``X-Zoho-Webhook-Signature``."""
    return _zoho_digest(secret, body, pairs).hex()


def verify_zoho(
    secrets: Sequence[str], signature: str | None, body: bytes,
    pairs: Iterable[tuple[str, str]] = (),
) -> None:
    """Raise :class:`SignatureError` unless one of `secrets` produced `signature`."""
    if not signature:
        raise SignatureError("The X-Zoho-Webhook-Signature header is missing; set the webhook "
                             "secret in Zoho's webhook settings.")
    supplied = _digest_bytes(signature.strip())
    pairs = list(pairs)
    if supplied is None or not any(
            hmac.compare_digest(_zoho_digest(secret, body, pairs), supplied)
            for secret in secrets):
        raise SignatureError("The X-Zoho-Webhook-Signature does not match this body with any "
                             "configured secret (TDS_WEBHOOK_SECRET).")


def _zoho_digest(secret: str, body: bytes, pairs: Iterable[tuple[str, str]]) -> bytes:
    return hmac.new(secret.encode(), zoho_signed_string(pairs, body), hashlib.sha256).digest()


def _digest_bytes(signature: str) -> bytes | None:
    """The raw digest a signature header spells, in hex (any case) or base64, or None.

    Zoho does not state the encoding; verifiers use hex. Anything else a sender puts
    there (non-ASCII bytes, odd lengths) is simply no digest.
    """
    if not signature.isascii():
        return None
    try:
        return bytes.fromhex(signature) if len(signature) == 64 else \
            base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return None


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
    if not (timestamp.isascii() and timestamp.isdigit()
            and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        raise SignatureError("webhook-timestamp must be whole unix seconds.")
    sent_at = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_seconds} s away from "
                             "now; the event is stale or the sender's clock is off.")
    offered = [part.split(",", 1)[1].encode() for part in signature_header.split()
               if part.startswith("v1,") and part.isascii()]
    for secret in secrets:
        expected = sign_standard(secret, msg_id, sent_at, body).split(",", 1)[1].encode()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return
    raise SignatureError("No webhook-signature matches this body with any configured secret "
                         "(TDS_STANDARD_WEBHOOK_SECRET).")


def verify_token(expected: str, supplied: str | None) -> None:
    """Raise unless the shared token (query parameter or header) matches."""
    if not supplied or not hmac.compare_digest(
            expected.encode(), supplied.encode("utf-8", "surrogateescape")):
        raise SignatureError("The webhook token is missing or wrong; it must match "
                             "TDS_WEBHOOK_TOKEN.")


@dataclass(frozen=True)
class SignaturePolicy:
    """Which schemes the receiver accepts, with their secrets, and the check itself.

    The scheme is chosen by the headers present: Standard Webhooks, then Zoho's
    signature, then the shared token (a query parameter or header) when one is
    configured. A request carrying both Zoho's signature and the token must
    have both right.
    """

    zoho_secrets: tuple[str, ...] = ()
    standard_secrets: tuple[str, ...] = ()
    token: str = ""
    token_param: str = ""  # query parameter or header carrying the token
    tolerance_seconds: int = 300

    def secret_headers(self) -> frozenset[str]:
        """Lower-case names of headers that authenticate a sender (never stored)."""
        names = {ZOHO_SIGNATURE, "webhook-signature"}
        if self.token_param:
            names.add(self.token_param.lower())
        return frozenset(names)

    def verify(self, headers: Mapping[str, str], query: Sequence[tuple[str, str]],
               form_pairs: Sequence[tuple[str, str]], body: bytes, signed_body: bytes,
               now: float | None = None) -> str:
        """The scheme that vouches for the request; :class:`SignatureError` if none.

        `headers` has lower-case names; `body` is the raw body (Standard Webhooks
        sign it), `signed_body` the JSON part of Zoho's signed string."""
        if any(headers.get(name) for name in STANDARD_HEADERS):
            if not self.standard_secrets:
                raise SignatureError("Standard Webhooks signatures are not enabled here "
                                     "(TDS_STANDARD_WEBHOOK_SECRET is not set).")
            verify_standard(self.standard_secrets, headers.get("webhook-id"),
                            headers.get("webhook-timestamp"), headers.get("webhook-signature"),
                            body, self.tolerance_seconds, now=now)
            return "standard"
        token = self._supplied_token(headers, query)
        if headers.get(ZOHO_SIGNATURE) is not None:
            if not self.zoho_secrets:
                raise SignatureError("Zoho webhook signatures are not enabled here "
                                     "(TDS_WEBHOOK_SECRET is not set).")
            verify_zoho(self.zoho_secrets, headers.get(ZOHO_SIGNATURE), signed_body,
                        [*query, *form_pairs])
            if token is not None:  # both sent: the token must be right as well
                verify_token(self.token, token)
            return "zoho"
        if self.token and token is not None:
            verify_token(self.token, token)
            return "token"
        raise SignatureError("The webhook carries no signature; configure a secret (or token) "
                             "in Zoho's webhook settings.")

    def _supplied_token(self, headers: Mapping[str, str],
                        query: Sequence[tuple[str, str]]) -> str | None:
        if not (self.token and self.token_param):
            return None
        for key, value in query:
            if key == self.token_param:
                return value
        return headers.get(self.token_param.lower())
