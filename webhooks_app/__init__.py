"""The Flask receiver: the webhook route and the health checks, both thin over `tds`.

:func:`create_app` is the application factory (gunicorn:
``'webhooks_app:create_app()'``).
"""

from webhooks_app.factory import create_app

__all__ = ["create_app"]
