"""The secret TDS gives Zoho's webhooks (``tds_webhook_secrets``, newest last).

Zoho accepts 12-50 alphanumeric characters (``zoho-books-api.md``); Zoho then signs
each call with it (``X-Zoho-Webhook-Signature``), and the receiver verifies with
``TDS_WEBHOOK_SECRET``, which lists several for rotation: the newest, and the ones
before while deliveries signed with them may still come. Functions take a `Session` and
never commit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from tds.db.models import WebhookSecret

SECRET_BYTES = 16  # 32 hex characters: within Zoho's 12-50 alphanumeric


def webhook_secret(session: Session, rotate: bool = False) -> str:
    """The secret to register: the newest stored, or a new one when there is none or
    when `rotate`."""
    newest = session.scalar(select(WebhookSecret.secret).order_by(WebhookSecret.id.desc())
                            .limit(1))
    if newest is not None and not rotate:
        return newest
    made = secrets.token_hex(SECRET_BYTES)
    session.add(WebhookSecret(secret=made))
    session.flush()
    return made
