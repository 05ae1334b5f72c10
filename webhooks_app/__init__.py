"""The Flask receiver: health, webhooks and the consumer API, all thin."""

from webhooks_app.factory import create_app

__all__ = ["create_app"]
