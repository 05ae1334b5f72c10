"""The Celery app of this process, built from the environment when imported.

The one module that builds an app at import, for ``celery -A workers.make_celery
worker`` (and beat, Flower); everything else calls
:func:`workers.app.create_celery` with the settings it was given.
"""

from tds.config import load_settings
from workers.app import create_celery

app = create_celery(load_settings())
app.set_default()
