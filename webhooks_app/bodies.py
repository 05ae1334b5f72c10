"""Request bodies read within bounds, for every view that takes one.

A body over ``TDS_WEBHOOK_MAX_BYTES`` is refused from its Content-Length before a
byte is read, and a body that lies about its length (or sends none, chunked) is
read at most one byte past the limit.
"""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge


class BodyTooLargeError(Exception):
    """The body is over TDS_WEBHOOK_MAX_BYTES (413)."""


def read_body(max_bytes: int) -> bytes:
    """The body, refused from Content-Length first and read at most `max_bytes` + 1."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= max_bytes:
            chunk = request.stream.read(max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except RequestEntityTooLarge:
        raise BodyTooLargeError from None
    if size > max_bytes:
        raise BodyTooLargeError
    return b"".join(chunks)
