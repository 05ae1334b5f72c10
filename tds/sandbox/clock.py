"""Zoho's timestamps: ``2023-11-18T02:02:51-0800`` (offset without a colon).

The sandbox keeps times as whole unix seconds and shows them in one fixed
organization offset, as a real organization's time zone would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

ORG_OFFSET_SECONDS = -8 * 3600
ORG_TZ = timezone(timedelta(seconds=ORG_OFFSET_SECONDS))
ORG_TIME_ZONE_NAME = "America/Los_Angeles"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S-0800"  # ORG_TZ's offset as Zoho writes it


def now() -> int:
    """The current time in whole unix seconds."""
    return int(time.time())


def format_time(epoch: int) -> str:
    """``epoch`` as Zoho writes ``created_time`` and ``last_modified_time``."""
    # time.strftime over a shifted gmtime is several times quicker than datetime's, and
    # generating 100,000 items formats two stamps each.
    return time.strftime(TIME_FORMAT, time.gmtime(epoch + ORG_OFFSET_SECONDS))


def format_date(epoch: int) -> str:
    """``epoch`` as a Zoho date (``2023-11-18``) in the organization's zone."""
    return datetime.fromtimestamp(epoch, ORG_TZ).strftime("%Y-%m-%d")


def parse_time(text: str) -> int:
    """Whole unix seconds from a filter value; raises ValueError when malformed.

    Accepts Zoho's own format, an ISO offset with a colon or ``Z``, and a bare
    date or a time without offset (in the organization's zone). A ``+`` in a
    query string that was not percent-encoded arrives as a space, so a space
    before the offset is read as ``+``.
    """
    value = text.strip()
    if len(value) > 19 and value[19] == " ":
        value = value[:19] + "+" + value[20:]
    try:
        # fromisoformat reads Zoho's colon-less offset too, about ten times quicker than
        # strptime; the store parses every record's stamp when it starts.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a Zoho timestamp: {text!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ORG_TZ)
    return int(parsed.astimezone(UTC).timestamp())
